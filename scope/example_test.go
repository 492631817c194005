package scope_test

import (
	"context"
	"fmt"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// printer is an Adapter that prints what instances send.
type printer struct{}

func (printer) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	fmt.Printf("to %s: %v\n", s.Key, ev)
	return nil
}

func (printer) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final { return bye{r} }

// An adapter hands the manager each update with its conversation key; the
// manager makes one instance per conversation and ends them all on
// Shutdown.
func ExampleManager() {
	app := scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		seen := 0 // per-scope state
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if f, ok := ev.(scope.Final); ok {
				fmt.Printf("%s ended: %s after %d messages\n", s.Key, f.EndReason(), seen)
				return nil
			}
			seen++
			return conn.Send(ctx, text{fmt.Sprintf("got %d", seen)})
		}), nil
	})
	m, err := scope.NewManager(app, printer{}, scope.Config{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, msg := range []string{"hi", "there"} {
		_ = m.Deliver(ctx, "alice", text{msg}, func() *scope.Scope { return &scope.Scope{Type: "example"} })
	}
	_ = m.Shutdown(ctx)
	// Output:
	// to alice: {got 1}
	// to alice: {got 2}
	// alice ended: shutdown after 2 messages
}
