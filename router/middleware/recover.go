package middleware

import (
	"context"
	"runtime/debug"

	"github.com/switchboard-bots/switchboard/event"
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
	return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, conn scope.Conn) (inst scope.Instance, err error) {
		defer func() {
			if v := recover(); v != nil {
				inst, err = nil, &scope.PanicError{Value: v, Stack: debug.Stack()}
			}
		}()
		inst, err = next.NewInstance(ctx, s, conn)
		if err != nil || inst == nil {
			return nil, err
		}
		return &recoverInstance{inst}, nil
	})
}

type recoverInstance struct{ next scope.Instance }

func (r *recoverInstance) Handle(ctx context.Context, ev event.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &scope.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return r.next.Handle(ctx, ev)
}
