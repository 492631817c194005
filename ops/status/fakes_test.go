package status_test

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/scope"
)

type ping struct{}

func (ping) Type() string { return "test.ping" }

// echoApp answers every event but a final one with a ping through its
// Conn.
func echoApp() scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, c scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if _, final := ev.(scope.Final); final {
				return nil
			}
			return c.Send(ctx, ping{})
		}), nil
	})
}

// nopConn takes whatever an instance sends.
type nopConn struct{}

func (nopConn) Send(context.Context, event.Event) error { return nil }
func (nopConn) Post(context.Context, event.Event) error { return nil }

// runner is an adapter as the page sees it.
type runner struct {
	name  string
	mu    sync.Mutex
	live  int
	ready chan struct{}
}

func newRunner(name string) *runner { return &runner{name: name, ready: make(chan struct{})} }

func (r *runner) Name() string           { return r.name }
func (r *runner) Ready() <-chan struct{} { return r.ready }
func (r *runner) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live
}
func (r *runner) setLen(n int) {
	r.mu.Lock()
	r.live = n
	r.mu.Unlock()
}

// checker fails the checks it is told to.
type checker struct {
	mu     sync.Mutex
	names  []string
	failed []ops.Failure
}

func (c *checker) Names() []string { return c.names }
func (c *checker) Check(context.Context) []ops.Failure {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// slowWatcher lists the handlers it is given.
type slowWatcher struct{ running []ops.RunningHandler }

func (w slowWatcher) After() time.Duration { return 30 * time.Second }
func (w slowWatcher) Running(n int) []ops.RunningHandler {
	if len(w.running) > n {
		return w.running[:n]
	}
	return w.running
}

// discard is a handler that drops every record.
type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return true }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }

// record is a warning of adapter at t.
func record(msg, adapter string, t time.Time) slog.Record {
	r := slog.NewRecord(t, slog.LevelWarn, msg, 0)
	r.AddAttrs(slog.String("adapter", adapter))
	return r
}
