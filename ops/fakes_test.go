package ops_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/scope"
)

type ping struct{}

func (ping) Type() string { return "test.ping" }

type pong struct{}

func (pong) Type() string { return "test.pong" }

type disconnect struct{ reason scope.Reason }

func (disconnect) Type() string              { return "test.disconnect" }
func (d disconnect) EndReason() scope.Reason { return d.reason }

// conn is the adapter's side of a scope: it records what the instance
// sends and fails sends while failSend is set.
type conn struct {
	mu       sync.Mutex
	sent     []event.Event
	posted   []event.Event
	failSend error
}

func (c *conn) Send(_ context.Context, ev event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failSend != nil {
		return c.failSend
	}
	c.sent = append(c.sent, ev)
	return nil
}

func (c *conn) Post(_ context.Context, ev event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posted = append(c.posted, ev)
	return nil
}

var errBoom = errors.New("boom")

// pongApp answers every ping with a pong through the Conn it was given,
// fails on "fail" pings and panics on "panic" ones. It refuses scopes
// whose key is "refused".
func pongApp() scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, c scope.Conn) (scope.Instance, error) {
		if s.Key == "refused" {
			return nil, errors.New("not allowed")
		}
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			switch ev := ev.(type) {
			case ping:
				return c.Send(ctx, pong{})
			case event.Message:
				switch ev["do"] {
				case "fail":
					return errBoom
				case "panic":
					panic("handler bug")
				}
			}
			return nil
		}), nil
	})
}

// newMetrics returns Metrics on a fresh registry.
func newMetrics(t testing.TB) (*ops.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := ops.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}
