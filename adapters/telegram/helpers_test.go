package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 10 * time.Second

// logBuffer collects an adapter's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testConfig is a polling adapter on srv with short timeouts, so that a
// test never waits on a default meant for production.
func testConfig(srv *telegramtest.Server) telegram.Config {
	return telegram.Config{
		Name:     "tg",
		Token:    telegram.Secret(srv.Token()),
		Endpoint: srv.Endpoint(),
		Polling:  telegram.Polling{Timeout: 5 * time.Second},
		Retry:    telegram.Retry{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		Limits:   telegram.Limits{Global: -1, Chat: -1, Group: -1},
	}
}

func newAdapter(t testing.TB, cfg telegram.Config, opts ...telegram.Option) (*telegram.Adapter, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts = append([]telegram.Option{telegram.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)
	a, err := telegram.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, logs
}

// running is an adapter run by a Host, serving an application until the
// test ends.
type running struct {
	h      *adapters.Host
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func start(t testing.TB, a *telegram.Adapter, app scope.Application, opts ...adapters.HostOption) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := adapters.NewHost(a, append([]adapters.HostOption{adapters.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	r := &running{h: h, cancel: cancel, done: make(chan struct{})}
	go func() { r.err = h.Run(ctx, app); close(r.done) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// ready waits until the Host is ready.
func (r *running) ready(t testing.TB) {
	t.Helper()
	select {
	case <-r.h.Ready():
	case <-r.done:
		t.Fatalf("Run returned before ready: %v", r.err)
	case <-time.After(wait):
		t.Fatal("not ready")
	}
}

// stop shuts the adapter down and waits for Run.
func (r *running) stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_ = r.h.Shutdown(ctx)
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
	if r.err != nil && !errors.Is(r.err, adapters.ErrStopped) && !errors.Is(r.err, context.Canceled) {
		t.Errorf("Run: %v", r.err)
	}
}

// kill cancels Run's context: a hard stop.
func (r *running) kill(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(wait):
		t.Fatal("Run did not return after its context ended")
	}
}

func noToken(t testing.TB, srv *telegramtest.Server, logs ...string) {
	t.Helper()
	for _, l := range logs {
		if strings.Contains(l, srv.Token()) {
			t.Fatalf("the token appears in the log:\n%s", l)
		}
	}
}

type scopeCtx = context.Context

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *atomicCounter) load() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
