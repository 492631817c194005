package worker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/worker"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type job struct {
	N int `msgpack:"n"`
}

func (job) Type() string { return "test.job" }

func TestServesChannelsInOrderAndStops(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type seen struct {
		channel string
		ev      event.Event
		sendErr error
	}
	got := make(chan seen, 100)
	app := scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			got <- seen{s.Channel, ev, conn.Send(ctx, ev)}
			return nil
		}), nil
	})
	w, err := worker.New(l, []string{"jobs.a", "jobs.b"})
	if err != nil {
		t.Fatal(err)
	}
	// A tiny idle timeout: the worker's scopes must outlive it.
	a := adapters.NewHost(w, adapters.WithScopes(w.ScopeConfig(scope.Config{IdleTimeout: time.Millisecond})))
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background(), app) }()

	ctx := context.Background()
	for i := range 5 {
		for _, ch := range []string{"jobs.a", "jobs.b"} {
			if err := l.Send(ctx, ch, job{i}); err != nil {
				t.Fatal(err)
			}
		}
	}
	next := map[string]int{}
	for range 10 {
		select {
		case s := <-got:
			if s.ev.(job).N != next[s.channel] {
				t.Fatalf("%s: job %d, want %d", s.channel, s.ev.(job).N, next[s.channel])
			}
			if !errors.Is(s.sendErr, worker.ErrNoPlatform) {
				t.Fatalf("Send from a worker scope: %v, want ErrNoPlatform", s.sendErr)
			}
			next[s.channel]++
		case <-time.After(5 * time.Second):
			t.Fatal("jobs not served")
		}
	}

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if s := <-got; s.ev.(worker.Disconnect).Reason != scope.ReasonShutdown {
			t.Fatalf("got %+v, want the shutdown disconnect", s)
		}
	}
	if err := <-done; !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run: %v", err)
	}
}

func TestRejectsBadChannelNames(t *testing.T) {
	l, _ := memory.New(layer.Config{})
	defer l.Close()
	if _, err := worker.New(l, []string{"bad name"}); !errors.Is(err, layer.ErrInvalidName) {
		t.Fatalf("got %v", err)
	}
	if _, err := worker.New(l, nil); err == nil {
		t.Fatal("no channels accepted")
	}
	if _, err := worker.Factory(adapters.Setup{Name: "w", Layer: l, Decode: func(any) error { return nil }}); err == nil {
		t.Fatal("a section without channels accepted")
	}
}

func TestFactoryAndLifecycle(t *testing.T) {
	defer goleak.VerifyNone(t)
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := worker.Factory(adapters.Setup{Name: "jobs", Layer: l, Decode: func(v any) error {
		v.(*worker.Config).Channels = []string{"jobs.c"}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "jobs" {
		t.Errorf("name %q, want the section's", a.Name())
	}
	app := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
	})
	// Shutdown before Run: Run returns ErrStopped and starts nothing.
	h := adapters.NewHost(a)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Run(context.Background(), app); !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run after Shutdown: %v, want ErrStopped", err)
	}
	// Run twice: the second returns ErrRunning at once.
	h = adapters.NewHost(a)
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	<-h.Ready()
	if err := h.Run(context.Background(), app); !errors.Is(err, adapters.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, adapters.ErrStopped) {
		t.Errorf("Run: %v, want ErrStopped", err)
	}
}
