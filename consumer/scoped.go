package consumer

import (
	"context"

	"github.com/switchboard-bots/switchboard/scope"
)

// withValue is the middleware of WithLayer and WithLogger: it gives every
// scope below it one more value.
type withValue struct {
	next     scope.Application
	key, val any
}

func (w *withValue) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	return w.next.NewInstance(ctx, s.WithValue(w.key, w.val), conn)
}

// HandlesProtocol passes the question on to the wrapped application (see
// router.HandlesProtocol): a value added to the scope changes nothing of
// what it handles.
func (w *withValue) HandlesProtocol(protocol string) bool {
	if r, ok := w.next.(interface{ HandlesProtocol(string) bool }); ok {
		return r.HandlesProtocol(protocol)
	}
	return true
}

func scopeValue(key, val any) func(scope.Application) scope.Application {
	return func(next scope.Application) scope.Application {
		if next == nil {
			panic("consumer: nil application")
		}
		return &withValue{next: next, key: key, val: val}
	}
}
