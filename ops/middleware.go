package ops

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Middleware counts the life of every scope it wraps, labelled by the
// scope's protocol (Scope.Type):
//
//   - a scope becomes live (switchboard_scopes_live) when the wrapped
//     application accepts it; a refused scope is not counted;
//   - each event handed to the instance is counted by type
//     (switchboard_events_in_total) and its Handle timed
//     (switchboard_handler_seconds); an error or a panic is counted in
//     switchboard_handler_errors_total, and the panic goes on;
//   - the final event (scope.Final) counts the end by its reason
//     (switchboard_scope_ends_total) and, once handled, takes the scope off
//     the live gauge;
//   - each event the instance sends through its Conn is counted by type
//     (switchboard_events_out_total) when it is handed to the adapter,
//     whether or not the adapter then accepts it: a failed send surfaces as
//     a handler error when the consumer returns it.
//
// The label children of a protocol are resolved once per scope and those
// of an event type are cached, so an event costs two reads of the
// monotonic clock, three atomic adds and no allocation. Put Middleware
// outermost to count every event, including those an inner middleware (a
// rate limit, an authorization) answers itself.
func (m *Metrics) Middleware() router.Middleware {
	return router.EventMiddleware(func(_ context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		pm := m.forProtocol(s.Type)
		next, err := start(keepTryPost(&countingConn{next: conn, pm: pm}, conn))
		if err != nil {
			return nil, err
		}
		pm.live.Inc()
		return (&instance{next: next, pm: pm}).Handle, nil
	})
}

// instance counts one scope's events. The manager calls Handle one event
// at a time, so the fields need no lock.
type instance struct {
	next  scope.HandlerFunc
	pm    *protocolMetrics
	ended bool // the final event was counted; a second one must not be

	// lastType and lastIn remember the counter of the last event type: a
	// scope mostly sees the same few types, and comparing two strings that
	// are usually the same constant is cheaper than a map lookup.
	lastType string
	lastIn   prometheus.Counter
}

func (in *instance) Handle(ctx context.Context, ev event.Event) (err error) {
	typ := ev.Type()
	if in.lastIn == nil || typ != in.lastType {
		in.lastType, in.lastIn = typ, in.pm.in.get(typ)
	}
	in.lastIn.Inc()

	start := in.pm.m.clock()
	returned := false
	// Deferred so that a panicking handler is still timed, counted as an
	// error and, on the final event, taken off the live gauge: the manager
	// recovers the panic but delivers no second final event.
	defer func() {
		in.pm.handler.observe(in.pm.m.clock() - start)
		if !returned || err != nil {
			in.pm.handlerErrs.Inc()
		}
		if f, ok := ev.(scope.Final); ok && !in.ended {
			in.ended = true
			in.pm.ended(string(f.EndReason()))
		}
	}()
	err = in.next(ctx, ev)
	returned = true
	return err
}

// countingConn counts what the instance sends. Send may be called from
// goroutines other than Handle's (work the consumer started), so it keeps
// no per-call state of its own and relies on the shared cache.
type countingConn struct {
	next scope.Conn
	pm   *protocolMetrics
}

func (c *countingConn) Send(ctx context.Context, ev event.Event) error {
	c.pm.out.get(ev.Type()).Inc()
	return c.next.Send(ctx, ev)
}

// Post is not counted: the event re-enters the scope and is counted as it
// is handled.
func (c *countingConn) Post(ctx context.Context, ev event.Event) error {
	return c.next.Post(ctx, ev)
}

// keepTryPost returns wrapper, a Conn over conn, as a scope.TryPoster too
// when conn is one: a consumer's layer channel is served by the layer's
// one receiver per process only through a Conn that can post without
// waiting, and falls back to a goroutine per instance when a wrapper
// hides it.
func keepTryPost(wrapper, conn scope.Conn) scope.Conn {
	if try, ok := conn.(scope.TryPoster); ok {
		return tryConn{Conn: wrapper, try: try}
	}
	return wrapper
}

// tryConn is a Conn wrapper with its underlying Conn's TryPost. Like Post,
// TryPost is not counted.
type tryConn struct {
	scope.Conn
	try scope.TryPoster
}

var _ scope.TryPoster = tryConn{}

func (c tryConn) TryPost(ev event.Event) error { return c.try.TryPost(ev) }
