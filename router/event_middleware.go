package router

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/scope"
)

// errNoInstance is what an EventMiddleware's Start returns for an
// application that made no instance and gave no reason, and what its
// NewInstance returns for a function that returned no handler: the scope
// manager refuses such a scope too.
var errNoInstance = errors.New("router: application returned no instance")

// Start makes the instance of the application an EventMiddleware wraps,
// for the scope being started, with conn as the instance's Conn (the
// middleware's own, or a wrapper of it that watches what the instance
// sends). It returns the instance's Handle, or the error with which the
// application refused the scope; it never returns a nil handler without an
// error.
type Start func(conn scope.Conn) (scope.HandlerFunc, error)

// EventMiddleware returns middleware written as one function, fn, called
// once per scope: the way to wrap every event of a scope without an
// Application, an Instance type and their nil checks.
//
// fn gets the scope, its Conn, and start, which makes the wrapped
// application's instance. It calls start (or answers for the application
// without it, refusing the scope with an error), and returns the handler
// of the scope's events, which usually does its work around a call of the
// handler start returned:
//
//	timing := router.EventMiddleware(func(ctx context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
//		next, err := start(conn)
//		if err != nil {
//			return nil, err
//		}
//		return func(ctx context.Context, ev event.Event) error {
//			t := time.Now()
//			defer func() { observe(s.Type, ev.Type(), time.Since(t)) }()
//			return next(ctx, ev)
//		}, nil
//	})
//
// Per-scope state lives in variables of fn that the handler closes over:
// the scope manager calls a scope's handler one event at a time, so they
// need no lock. ctx is only valid while fn runs.
//
// The middleware forwards ProtocolReporter to the wrapped application.
func EventMiddleware(fn func(ctx context.Context, s *scope.Scope, conn scope.Conn, start Start) (scope.HandlerFunc, error)) Middleware {
	if fn == nil {
		panic("router: EventMiddleware: nil function")
	}
	return func(next scope.Application) scope.Application {
		if next == nil {
			panic("router: EventMiddleware: nil application")
		}
		return &eventMiddleware{next: next, fn: fn}
	}
}

type eventMiddleware struct {
	next scope.Application
	fn   func(ctx context.Context, s *scope.Scope, conn scope.Conn, start Start) (scope.HandlerFunc, error)
}

func (m *eventMiddleware) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	h, err := m.fn(ctx, s, conn, func(c scope.Conn) (scope.HandlerFunc, error) {
		inst, err := m.next.NewInstance(ctx, s, c)
		switch {
		case err != nil:
			return nil, err
		case inst == nil:
			return nil, errNoInstance
		}
		if h, ok := inst.(scope.HandlerFunc); ok {
			return h, nil
		}
		return inst.Handle, nil
	})
	switch {
	case err != nil:
		return nil, err
	case h == nil:
		return nil, errNoInstance
	}
	return h, nil
}

// HandlesProtocol implements ProtocolReporter for the wrapped application.
func (m *eventMiddleware) HandlesProtocol(protocol string) bool {
	return HandlesProtocol(m.next, protocol)
}
