package ops_test

import (
	"context"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

var nop = scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
})

// BenchmarkMiddlewareEvent is the cost the middleware adds to one event:
// count it, time Handle, observe the latency.
func BenchmarkMiddlewareEvent(b *testing.B) {
	m, _ := newMetrics(b)
	inst := start(b, m.Middleware()(nop), "websocket", "a", new(conn))
	ctx := context.Background()
	ev := event.Event(ping{})
	b.ReportAllocs()
	for b.Loop() {
		inst.Handle(ctx, ev)
	}
}

// BenchmarkMiddlewareEventTypes alternates event types, which misses the
// instance's last-type cache on every event and goes to the shared one.
func BenchmarkMiddlewareEventTypes(b *testing.B) {
	m, _ := newMetrics(b)
	inst := start(b, m.Middleware()(nop), "websocket", "a", new(conn))
	ctx := context.Background()
	evs := [2]event.Event{ping{}, pong{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		inst.Handle(ctx, evs[i&1])
		i++
	}
}

// BenchmarkMiddlewareSend is the cost of counting one outbound event.
func BenchmarkMiddlewareSend(b *testing.B) {
	m, _ := newMetrics(b)
	var c scope.Conn
	app := m.Middleware()(scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, wrapped scope.Conn) (scope.Instance, error) {
		c = wrapped
		return nop.NewInstance(nil, nil, nil)
	}))
	start(b, app, "websocket", "a", discard{})
	ctx := context.Background()
	ev := event.Event(pong{})
	b.ReportAllocs()
	for b.Loop() {
		c.Send(ctx, ev)
	}
}

// BenchmarkMiddlewareEventParallel runs one scope per goroutine, all of one
// protocol, as a busy server does: they share the protocol's counters.
func BenchmarkMiddlewareEventParallel(b *testing.B) {
	m, _ := newMetrics(b)
	app := m.Middleware()(nop)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		inst, err := app.NewInstance(ctx, &scope.Scope{Type: "websocket"}, new(conn))
		if err != nil {
			b.Error(err)
			return
		}
		ev := event.Event(ping{})
		for pb.Next() {
			inst.Handle(ctx, ev)
		}
	})
}

// BenchmarkBare is the same event without the middleware, for comparison.
func BenchmarkBare(b *testing.B) {
	inst := start(b, nop, "websocket", "a", new(conn))
	ctx := context.Background()
	ev := event.Event(ping{})
	b.ReportAllocs()
	for b.Loop() {
		inst.Handle(ctx, ev)
	}
}

type discard struct{}

func (discard) Send(context.Context, event.Event) error { return nil }
func (discard) Post(context.Context, event.Event) error { return nil }
