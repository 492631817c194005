package slack_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// got is one event as the test application saw it.
type got struct {
	s  *scope.Scope
	ev event.Event
}

// recorder is a test application: every instance reports each event to
// seen, then runs on (if set), which may send through the conn.
type recorder struct {
	seen      chan got
	instances atomic.Int64
	on        func(ctx context.Context, conn scope.Conn, s *scope.Scope, ev event.Event) error
}

func newRecorder(on func(context.Context, scope.Conn, *scope.Scope, event.Event) error) *recorder {
	return &recorder{seen: make(chan got, 100_000), on: on}
}

func (r *recorder) NewInstance(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	r.instances.Add(1)
	return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		r.seen <- got{s, ev}
		if r.on == nil {
			return nil
		}
		return r.on(ctx, conn, s, ev)
	}), nil
}

// next returns the next event that is not a final one.
func (r *recorder) next(t testing.TB) got {
	t.Helper()
	for {
		select {
		case g := <-r.seen:
			if _, final := g.ev.(scope.Final); final {
				continue
			}
			return g
		case <-time.After(fakeslack.Timeout):
			t.Fatal("the application saw nothing within the timeout")
			return got{}
		}
	}
}

// none checks that no event other than a final one is waiting.
func (r *recorder) none(t testing.TB) {
	t.Helper()
	for {
		select {
		case g := <-r.seen:
			if _, final := g.ev.(scope.Final); !final {
				t.Fatalf("unexpected %s: %+v", g.ev.Type(), g.ev)
			}
		default:
			return
		}
	}
}

// run starts the adapter with app until the test ends, and waits until
// it is serving.
func (e *env) run(t testing.TB, app scope.Application) {
	t.Helper()
	e.start(t, app)
	select {
	case <-e.h.Ready():
	case <-time.After(fakeslack.Timeout):
		t.Fatal("the adapter did not become ready")
	}
}

// start runs the adapter with app until the test ends, and returns at
// once.
func (e *env) start(t testing.TB, app scope.Application) {
	t.Helper()
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- e.h.Run(ctx, app) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), fakeslack.Timeout)
		defer scancel()
		if err := e.h.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != adapters.ErrStopped {
			t.Errorf("Run returned %v, want ErrStopped", err)
		}
		cancel()
	})
}
