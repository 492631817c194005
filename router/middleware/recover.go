package middleware

import (
	"context"
	"runtime/debug"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Recover turns a panic in the wrapped application's NewInstance or in its
// instance's Handle into a returned *scope.PanicError carrying the panic
// value and the stack where it happened, so the failure goes the way of
// any error and tests can find it with errors.As. Put it outermost, so that
// it covers the other middleware too.
//
// The scope manager recovers panics as well; Recover is for applications
// served without it (tests, custom servers), and for middleware outside it
// that should see a panic as an error, such as Logger.
func Recover(next scope.Application) scope.Application {
	return router.EventMiddleware(recoverScope)(next)
}

func recoverScope(_ context.Context, _ *scope.Scope, conn scope.Conn, start router.Start) (h scope.HandlerFunc, err error) {
	defer func() {
		if v := recover(); v != nil {
			h, err = nil, &scope.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	next, err := start(conn)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ev event.Event) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = &scope.PanicError{Value: v, Stack: debug.Stack()}
			}
		}()
		return next(ctx, ev)
	}, nil
}
