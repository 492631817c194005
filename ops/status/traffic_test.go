package status_test

import (
	"context"
	"testing"

	"github.com/switchboard-bots/switchboard/ops/status"
	"github.com/switchboard-bots/switchboard/scope"
)

// TestTrafficCountsByAdapter: two adapters of one protocol are counted
// apart, events in as they are handled and events out as they are sent.
func TestTrafficCountsByAdapter(t *testing.T) {
	tr := status.NewTraffic()
	app := tr.Middleware()(echoApp())
	handle := func(adapter, key string, n int) {
		inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: "telegram", Adapter: adapter, Key: key}, nopConn{})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			if err := inst.Handle(context.Background(), ping{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	handle("support", "1", 3)
	handle("support", "2", 2)
	handle("sales", "1", 4)
	for _, c := range []struct {
		adapter string
		in, out uint64
	}{{"support", 5, 5}, {"sales", 4, 4}, {"unknown", 0, 0}} {
		if in, out := tr.Counts(c.adapter); in != c.in || out != c.out {
			t.Errorf("%s: in %d out %d, want %d and %d", c.adapter, in, out, c.in, c.out)
		}
	}
}

func BenchmarkTrafficMiddleware(b *testing.B) {
	tr := status.NewTraffic()
	inst, err := tr.Middleware()(echoApp()).NewInstance(context.Background(), &scope.Scope{Type: "websocket", Adapter: "websocket"}, nopConn{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = inst.Handle(ctx, ping{})
	}
}

func BenchmarkNoMiddleware(b *testing.B) {
	inst, err := echoApp().NewInstance(context.Background(), &scope.Scope{Type: "websocket", Adapter: "websocket"}, nopConn{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = inst.Handle(ctx, ping{})
	}
}
