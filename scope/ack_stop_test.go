package scope_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// TestAckOfAHandlerCutShortByClose: a handler that returns its context's
// error because Close cancelled it did not handle its event, so the ack
// says ErrNotHandled; one that finishes anyway handled it.
func TestAckOfAHandlerCutShortByClose(t *testing.T) {
	for _, c := range []struct {
		name    string
		result  func(ctx context.Context) error
		handled bool
	}{
		{"gives up", func(ctx context.Context) error { return ctx.Err() }, false},
		{"finishes", func(context.Context) error { return nil }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			started := make(chan struct{})
			app := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
				return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
					if _, ok := ev.(text); !ok {
						return nil
					}
					close(started)
					<-ctx.Done()
					return c.result(ctx)
				}), nil
			})
			m := newManager(t, app, newProto(), scope.Config{})
			acked := make(chan error, 1)
			if err := m.DeliverAck(context.Background(), "k", text{"x"}, newScope, func(err error) { acked <- err }); err != nil {
				t.Fatal(err)
			}
			<-started
			if err := m.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			err := <-acked
			if c.handled && err != nil {
				t.Fatalf("ack: %v, want nil", err)
			}
			if !c.handled && !errors.Is(err, scope.ErrNotHandled) {
				t.Fatalf("ack: %v, want ErrNotHandled", err)
			}
		})
	}
}
