package status

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Traffic counts the events of every scope it wraps by adapter
// (Scope.Adapter): the status page's events in and out per second.
// Prometheus' counters (ops.Metrics) are by protocol, which cannot tell
// two Telegram bots of one server apart. The zero value is not usable;
// make one with NewTraffic.
type Traffic struct {
	byAdapter sync.Map // adapter name → *counts
}

// counts are one adapter's events since the process started.
type counts struct{ in, out atomic.Uint64 }

// NewTraffic returns a Traffic with nothing counted.
func NewTraffic() *Traffic { return &Traffic{} }

// of returns adapter's counts, making them on first use: once per scope,
// not per event.
func (t *Traffic) of(adapter string) *counts {
	if c, ok := t.byAdapter.Load(adapter); ok {
		return c.(*counts)
	}
	c, _ := t.byAdapter.LoadOrStore(adapter, new(counts))
	return c.(*counts)
}

// Counts returns the events handed to the instances of adapter's scopes
// (in) and the events those instances sent (out), since the process
// started.
func (t *Traffic) Counts(adapter string) (in, out uint64) {
	c, ok := t.byAdapter.Load(adapter)
	if !ok {
		return 0, 0
	}
	return c.(*counts).in.Load(), c.(*counts).out.Load()
}

// Middleware counts each event handed to an instance, and each event the
// instance sends through its Conn, against the scope's adapter: one atomic
// add per event. An event posted back to the scope (Conn.Post) is counted
// once, when it is handled.
func (t *Traffic) Middleware() router.Middleware {
	return router.EventMiddleware(func(_ context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		c := t.of(s.Adapter)
		cc := countingConn{next: conn, c: c}
		var counted scope.Conn = cc
		if try, ok := conn.(scope.TryPoster); ok {
			// A Conn that hid TryPost would cost a consumer's layer
			// channel the layer's one receiver per process.
			counted = tryCountingConn{countingConn: cc, try: try}
		}
		next, err := start(counted)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, ev event.Event) error {
			c.in.Add(1)
			return next(ctx, ev)
		}, nil
	})
}

// countingConn counts what an instance sends. Send may be called from
// goroutines other than the handler's, which the atomic counter allows.
type countingConn struct {
	next scope.Conn
	c    *counts
}

func (c countingConn) Send(ctx context.Context, ev event.Event) error {
	c.c.out.Add(1)
	return c.next.Send(ctx, ev)
}

func (c countingConn) Post(ctx context.Context, ev event.Event) error { return c.next.Post(ctx, ev) }

// tryCountingConn is countingConn over a Conn that can post without
// waiting; TryPost, like Post, is counted when the event is handled.
type tryCountingConn struct {
	countingConn
	try scope.TryPoster
}

var _ scope.TryPoster = tryCountingConn{}

func (c tryCountingConn) TryPost(ev event.Event) error { return c.try.TryPost(ev) }
