package middleware

import (
	"context"
	"sync"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

type ping struct{}

func (ping) Type() string { return "test.ping" }

type disconnect struct{ reason scope.Reason }

func (disconnect) Type() string              { return "test.disconnect" }
func (d disconnect) EndReason() scope.Reason { return d.reason }

// conn records what is sent.
type conn struct {
	mu   sync.Mutex
	sent []event.Event
}

func (c *conn) Send(_ context.Context, ev event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, ev)
	return nil
}

func (c *conn) Post(context.Context, event.Event) error { return nil }

// app is a test application: its instances count the events they handle
// and run handle, when set, on each.
type app struct {
	newErr   error
	newPanic any
	handle   func(ctx context.Context, ev event.Event) error
	started  []*scope.Scope
	inst     *recorder
}

type recorder struct {
	a      *app
	events []event.Event
}

func (a *app) NewInstance(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
	if a.newPanic != nil {
		panic(a.newPanic)
	}
	if a.newErr != nil {
		return nil, a.newErr
	}
	a.started = append(a.started, s)
	a.inst = &recorder{a: a}
	return a.inst, nil
}

func (r *recorder) Handle(ctx context.Context, ev event.Event) error {
	r.events = append(r.events, ev)
	if r.a.handle != nil {
		return r.a.handle(ctx, ev)
	}
	return nil
}

func (r *recorder) types() []string {
	t := make([]string, len(r.events))
	for i, ev := range r.events {
		t[i] = ev.Type()
	}
	return t
}

// quiet is an application whose instances do nothing, and allocate
// nothing, per event: for counting a middleware's own allocations.
var quiet = scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
})
