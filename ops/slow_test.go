package ops_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/scope"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// blockingApp's handlers block until release is closed, and say they
// started on started.
func blockingApp(started chan<- string, release <-chan struct{}) scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if _, final := ev.(scope.Final); final {
				return nil
			}
			started <- s.Key
			<-release
			return nil
		}), nil
	})
}

func TestSlowHandlersAreNamedCountedAndMakeTheAdapterUnready(t *testing.T) {
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	clk := &fakeClock{t: time.Unix(0, 0)}
	reg := prometheus.NewRegistry()
	w, err := ops.NewSlowHandlers(reg, ops.SlowOptions{After: 30 * time.Second, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&logBuf, &logMu}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan string), make(chan struct{})
	app := w.Middleware()(blockingApp(started, release))
	const maxScopes = 10
	var wg sync.WaitGroup
	var insts []scope.Instance
	for i := range maxScopes {
		inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: "telegram", Adapter: "telegram", Key: "chat" + string(rune('0'+i))}, &conn{})
		if err != nil {
			t.Fatal(err)
		}
		insts = append(insts, inst)
		wg.Go(func() { _ = inst.Handle(context.Background(), ping{}) })
		<-started
	}
	check := w.Check("telegram", maxScopes)
	w.Scan()
	if err := check(context.Background()); err != nil {
		t.Fatalf("ready before the threshold: %v", err)
	}
	clk.Add(31 * time.Second)
	w.Scan()
	w.Scan() // a second scan does not warn again
	err = check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "10 of max_scopes 10") || !strings.Contains(err.Error(), "test.ping") {
		t.Fatalf("check = %v, want not ready naming the stuck handlers", err)
	}
	if got := gaugeSum(t, reg, "switchboard_handlers_slow"); got != 10 {
		t.Fatalf("switchboard_handlers_slow = %v", got)
	}
	logMu.Lock()
	out := logBuf.String()
	logMu.Unlock()
	if n := strings.Count(out, "handler running long"); n != 10 || !strings.Contains(out, "adapter=telegram key=chat3 event=test.ping") {
		t.Fatalf("%d warnings, want one per stuck handler naming adapter, key and event:\n%s", n, out)
	}
	close(release)
	wg.Wait()
	for _, inst := range insts {
		_ = inst.Handle(context.Background(), disconnect{reason: scope.ReasonShutdown})
	}
	w.Scan()
	if err := check(context.Background()); err != nil {
		t.Fatalf("still not ready once the handlers returned: %v", err)
	}
	if got := gaugeSum(t, reg, "switchboard_handlers_slow"); got != 0 {
		t.Fatalf("switchboard_handlers_slow = %v after the handlers returned", got)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func gaugeSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
