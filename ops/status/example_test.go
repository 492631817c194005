package status_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/ops/status"
	"github.com/switchboard-bots/switchboard/scope"
)

// chat stands for an adapter's Host: its name, live scopes and readiness.
type chat struct{ ready chan struct{} }

func (chat) Name() string             { return "chat" }
func (chat) Len() int                 { return 3 }
func (c chat) Ready() <-chan struct{} { return c.ready }

// A server counts its traffic with Traffic's middleware, taps its log,
// and serves the page beside its ops endpoints; Run samples once a second.
func Example() {
	traffic := status.NewTraffic()
	app := traffic.Middleware()(scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
	}))
	a := chat{ready: make(chan struct{})}
	close(a.ready)
	health := &ops.Health{}
	health.AddCheck("chat", func(context.Context) error { return nil })

	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st := status.New(status.Sources{
		Adapters: func() []status.Adapter {
			return []status.Adapter{{Runner: a, Kind: "console", Protocols: []string{"console"}, MaxScopes: 100}}
		},
		Traffic: traffic,
		Health:  health,
	}, status.Options{Now: func() time.Time { return now }})
	st.Sample(context.Background())

	inst, _ := app.NewInstance(context.Background(), &scope.Scope{Type: "console", Adapter: "chat", Key: "me"}, nil)
	for range 5 {
		_ = inst.Handle(context.Background(), event.Message{"type": "console.message", "text": "hi"})
	}
	now = now.Add(time.Second)
	s := st.Sample(context.Background())
	c := s.Adapters[0]
	fmt.Printf("%s is %s: %d/%d scopes, %.0f events in per second; ready: %v\n", c.Name, c.State, c.Scopes, c.MaxScopes, c.InRate, s.Ready)

	ops := http.NotFoundHandler() // the ops listener's /metrics, /healthz, /readyz
	rec := httptest.NewRecorder()
	st.Wrap(ops).ServeHTTP(rec, httptest.NewRequest("GET", "/status.json", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// chat is serving: 3/100 scopes, 5 events in per second; ready: true
	// 200 application/json
}
