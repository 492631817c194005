package ops_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// start makes an instance of app for a scope of protocol and key.
func start(t testing.TB, app scope.Application, protocol, key string, c scope.Conn) scope.Instance {
	t.Helper()
	inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: protocol, Key: key}, c)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func handle(t *testing.T, inst scope.Instance, ev event.Event) error {
	t.Helper()
	return inst.Handle(context.Background(), ev)
}

// handlerCount reads how many events the latency histogram of protocol
// observed. The bucket values depend on timing; the count does not.
func handlerCount(t *testing.T, reg *prometheus.Registry, protocol string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "switchboard_handler_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == protocol {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func TestMiddlewareCountsAScope(t *testing.T) {
	m, reg := newMetrics(t)
	app := m.Middleware()(pongApp())
	c := new(conn)
	inst := start(t, app, "telegram", "chat1", c)

	if got := testutil.ToFloat64(m.LiveScopes("telegram")); got != 1 {
		t.Fatalf("live after start = %v, want 1", got)
	}
	for range 2 {
		if err := handle(t, inst, ping{}); err != nil {
			t.Fatal(err)
		}
	}
	// A Post re-enters the scope and is counted when handled, not sent.
	if err := c.Post(context.Background(), ping{}); err != nil {
		t.Fatal(err)
	}
	if err := handle(t, inst, event.Message{"type": "test.job", "do": "fail"}); err != errBoom {
		t.Fatalf("Handle = %v, want errBoom unchanged", err)
	}
	// The manager ends a failed scope with ReasonError.
	if err := handle(t, inst, disconnect{scope.ReasonError}); err != nil {
		t.Fatal(err)
	}

	if len(c.sent) != 2 {
		t.Fatalf("adapter got %d events, want 2", len(c.sent))
	}
	want := `
# HELP switchboard_events_in_total Events handed to application instances, by protocol and event type.
# TYPE switchboard_events_in_total counter
switchboard_events_in_total{protocol="telegram",type="test.disconnect"} 1
switchboard_events_in_total{protocol="telegram",type="test.job"} 1
switchboard_events_in_total{protocol="telegram",type="test.ping"} 2
# HELP switchboard_events_out_total Events application instances sent to their adapters, by protocol and event type.
# TYPE switchboard_events_out_total counter
switchboard_events_out_total{protocol="telegram",type="test.pong"} 2
# HELP switchboard_handler_errors_total Events whose handler returned an error or panicked, by protocol.
# TYPE switchboard_handler_errors_total counter
switchboard_handler_errors_total{protocol="telegram"} 1
# HELP switchboard_scope_ends_total Scopes that ended, by protocol and the reason of their final event.
# TYPE switchboard_scope_ends_total counter
switchboard_scope_ends_total{protocol="telegram",reason="error"} 1
# HELP switchboard_scopes_live Scopes with a live application instance, by protocol.
# TYPE switchboard_scopes_live gauge
switchboard_scopes_live{protocol="telegram"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchboard_events_in_total", "switchboard_events_out_total",
		"switchboard_handler_errors_total", "switchboard_scope_ends_total",
		"switchboard_scopes_live"); err != nil {
		t.Fatal(err)
	}
	if got := handlerCount(t, reg, "telegram"); got != 4 {
		t.Fatalf("handler histogram observed %d events, want 4", got)
	}
}

func TestMiddlewareScopesByProtocol(t *testing.T) {
	m, reg := newMetrics(t)
	app := m.Middleware()(pongApp())
	ws1 := start(t, app, "websocket", "a", new(conn))
	ws2 := start(t, app, "websocket", "b", new(conn))
	tg := start(t, app, "telegram", "c", new(conn))
	if _, err := app.NewInstance(context.Background(), &scope.Scope{Type: "websocket", Key: "refused"}, new(conn)); err == nil {
		t.Fatal("refused scope accepted")
	}

	if got := testutil.ToFloat64(m.LiveScopes("websocket")); got != 2 {
		t.Fatalf("live websocket = %v, want 2 (a refused scope is not live)", got)
	}
	handle(t, ws1, disconnect{scope.ReasonClosed})
	handle(t, ws2, disconnect{scope.ReasonIdle})
	// A second final event must not count the scope's end twice.
	handle(t, ws2, disconnect{scope.ReasonIdle})
	handle(t, tg, disconnect{""})

	want := `
# HELP switchboard_scope_ends_total Scopes that ended, by protocol and the reason of their final event.
# TYPE switchboard_scope_ends_total counter
switchboard_scope_ends_total{protocol="telegram",reason="unknown"} 1
switchboard_scope_ends_total{protocol="websocket",reason="closed"} 1
switchboard_scope_ends_total{protocol="websocket",reason="idle"} 1
# HELP switchboard_scopes_live Scopes with a live application instance, by protocol.
# TYPE switchboard_scopes_live gauge
switchboard_scopes_live{protocol="telegram"} 0
switchboard_scopes_live{protocol="websocket"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchboard_scope_ends_total", "switchboard_scopes_live"); err != nil {
		t.Fatal(err)
	}
}

func TestMiddlewareCountsPanics(t *testing.T) {
	m, reg := newMetrics(t)
	inst := start(t, m.Middleware()(pongApp()), "slack", "x", new(conn))

	func() {
		defer func() {
			if p := recover(); p != "handler bug" {
				t.Fatalf("recovered %v, want the handler's panic to go on", p)
			}
		}()
		handle(t, inst, event.Message{"type": "test.job", "do": "panic"})
	}()

	if got := testutil.ToFloat64(m.HandlerErrors("slack")); got != 1 {
		t.Fatalf("handler errors = %v, want 1", got)
	}
	if got := handlerCount(t, reg, "slack"); got != 1 {
		t.Fatalf("handler histogram observed %d events, want 1", got)
	}
}

func TestMiddlewareCountsFailedSends(t *testing.T) {
	m, _ := newMetrics(t)
	c := &conn{failSend: errBoom}
	inst := start(t, m.Middleware()(pongApp()), "slack", "x", c)
	if err := handle(t, inst, ping{}); err != errBoom {
		t.Fatalf("Handle = %v, want the send's error", err)
	}
	if got := testutil.ToFloat64(m.EventsOut("slack", "test.pong")); got != 1 {
		t.Fatalf("events out = %v, want 1: a send is counted when handed over", got)
	}
	if got := testutil.ToFloat64(m.HandlerErrors("slack")); got != 1 {
		t.Fatalf("handler errors = %v, want 1", got)
	}
}

// Sends from the consumer's own goroutines race with Handle and with
// scrapes; run with -race.
func TestMiddlewareConcurrentSendsAndScrapes(t *testing.T) {
	m, reg := newMetrics(t)
	var wrapped scope.Conn
	app := m.Middleware()(scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, c scope.Conn) (scope.Instance, error) {
		wrapped = c
		return pongApp().NewInstance(ctx, s, c)
	}))
	inst := start(t, app, "websocket", "a", new(conn))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				wrapped.Send(context.Background(), pong{})
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
			}
		}
	})
	for range 100 {
		handle(t, inst, ping{})
	}
	wg.Wait()
	if got := testutil.ToFloat64(m.EventsOut("websocket", "test.pong")); got != 500 {
		t.Fatalf("events out = %v, want 500", got)
	}
	if got := testutil.ToFloat64(m.EventsIn("websocket", "test.ping")); got != 100 {
		t.Fatalf("events in = %v, want 100", got)
	}
}

// chatOnly handles Telegram scopes only.
type chatOnly struct{}

func (chatOnly) NewInstance(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
}
func (chatOnly) HandlesProtocol(p string) bool { return p == "telegram" }

func TestMiddlewareForwardsHandlesProtocol(t *testing.T) {
	m, err := ops.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	app := m.Middleware()(chatOnly{})
	if !router.HandlesProtocol(app, "telegram") || router.HandlesProtocol(app, "websocket") {
		t.Fatal("the metrics middleware hides what the application handles")
	}
}
