package router_test

import (
	"context"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/router/middleware"
	"github.com/switchboard-bots/switchboard/scope"
)

// nopConn discards what is sent, so the benchmark measures the dispatch.
type nopConn struct{}

func (nopConn) Send(context.Context, event.Event) error { return nil }
func (nopConn) Post(context.Context, event.Event) error { return nil }

// echo answers every event with one Send, the least a real handler does.
func echo(_ context.Context, _ *scope.Scope, c scope.Conn) (scope.Instance, error) {
	var out event.Event = reply{"ok"} // boxed once, not per Send
	return scope.HandlerFunc(func(ctx context.Context, _ event.Event) error {
		return c.Send(ctx, out)
	}), nil
}

// BenchmarkChainDispatch measures the cost of one event once the instance
// exists: Recover and RateLimit around a path router around a handler.
func BenchmarkChainDispatch(b *testing.B) {
	paths := router.NewPathRouter()
	paths.Handle("/chat/{room}/", scope.ApplicationFunc(echo))
	paths.Handle("/other/", scope.ApplicationFunc(echo))
	app := router.With(paths, middleware.Recover, middleware.RateLimit(1e9, 1_000_000))

	ctx := context.Background()
	inst, err := app.NewInstance(ctx, &scope.Scope{Type: "websocket", Path: "/chat/lobby/"}, nopConn{})
	if err != nil {
		b.Fatal(err)
	}
	var ev event.Event = message{"hello"}
	b.ReportAllocs()
	for b.Loop() {
		if err := inst.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChainNewInstance measures what a new scope costs the same
// stack: matching the path, the derived scope, and the wrappers.
func BenchmarkChainNewInstance(b *testing.B) {
	paths := router.NewPathRouter()
	paths.Handle("/other/", scope.ApplicationFunc(echo))
	paths.Handle("/chat/{room}/", scope.ApplicationFunc(echo))
	app := router.With(paths, middleware.Recover, middleware.RateLimit(1e9, 1_000_000))

	ctx := context.Background()
	s := &scope.Scope{Type: "websocket", Path: "/chat/lobby/"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := app.NewInstance(ctx, s, nopConn{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommandDispatch measures routing one chat message by its
// command once the sub-instances exist.
func BenchmarkCommandDispatch(b *testing.B) {
	commands := router.NewCommandRouter()
	commands.Handle("start", scope.ApplicationFunc(echo))
	commands.Handle("help", scope.ApplicationFunc(echo))
	commands.Fallback(scope.ApplicationFunc(echo))
	ctx := context.Background()
	inst, err := commands.NewInstance(ctx, &scope.Scope{Type: "telegram"}, nopConn{})
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		ev   event.Event
	}{
		{"command", message{"/help@bot some topic"}},
		{"text", message{"just chatting"}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := inst.Handle(ctx, tt.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
