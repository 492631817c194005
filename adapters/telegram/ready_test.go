package telegram_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

func isReady(h *adapters.Host) bool {
	select {
	case <-h.Ready():
		return true
	default:
		return false
	}
}

// A polling adapter is ready only once getMe succeeded, here after a
// retried 500, and then serves updates.
func TestReadyPolling(t *testing.T) {
	srv := telegramtest.New(t)
	srv.Fail("getMe", 1, telegramtest.ServerError())
	obs := &adaptertest.Observer{}
	a, _ := newAdapter(t, testConfig(srv))
	rec := newRecorder()
	r := start(t, a, rec, adapters.WithObserver(obs))
	r.ready(t)
	if calls := srv.Calls("getMe"); len(calls) != 2 || calls[1].Status != http.StatusOK {
		t.Fatalf("ready after getMe calls %+v, want a 500 then a 200", calls)
	}
	if a.Bot().Username != srv.Bot().UserName {
		t.Fatalf("ready with the bot unknown: %+v", a.Bot())
	}
	if retries, _ := obs.Take(); !slices.Equal(retries, []string{"tg"}) {
		t.Errorf("retries %q, want the retried getMe", retries)
	}
	srv.Text(1, 1, "hello")
	rec.await(t, "the first message", func() bool { return rec.texts["hello"] == 1 })
}

// An adapter whose token Telegram refuses never becomes ready.
func TestReadyNeverWithARefusedToken(t *testing.T) {
	srv := telegramtest.New(t)
	cfg := testConfig(srv)
	cfg.Token = "42:not-the-token"
	a, _ := newAdapter(t, cfg)
	h := adapters.NewHost(a)
	if err := h.Run(context.Background(), newRecorder()); !errors.Is(err, telegram.ErrUnauthorized) {
		t.Fatalf("Run: %v, want ErrUnauthorized", err)
	}
	if isReady(h) {
		t.Fatal("ready though getMe was refused")
	}
}

// standbyLease is held by another process for good. Its first failures
// calls fail, as a lease store that is down does.
type standbyLease struct {
	failures int
	mu       sync.Mutex
	calls    int
	called   chan struct{} // closed and replaced on every Acquire
}

func (l *standbyLease) Acquire(context.Context, string, string, time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	close(l.called)
	l.called = make(chan struct{})
	if l.calls <= l.failures {
		return false, errors.New("lease store unreachable")
	}
	return false, nil
}

func (l *standbyLease) Renew(context.Context, string, string, time.Duration) (bool, error) {
	return false, nil
}

func (l *standbyLease) Release(context.Context, string, string) error { return nil }

// awaitCalls waits until Acquire was called n times and returns the
// count.
func (l *standbyLease) awaitCalls(t *testing.T, n int) int {
	t.Helper()
	deadline := time.After(wait)
	for {
		l.mu.Lock()
		calls, ch := l.calls, l.called
		l.mu.Unlock()
		if calls >= n {
			return calls
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%d lease attempts, want %d", calls, n)
		}
	}
}

// A process standing by for a lease another one holds is ready: it is
// healthy and takes over when the holder stops. It is not ready while
// the lease store fails, and it never polls while standing by.
func TestReadyStandingBy(t *testing.T) {
	srv := telegramtest.New(t)
	cfg := testConfig(srv)
	cfg.Polling.LeaseTTL = 30 * time.Millisecond // an attempt every 10ms
	lease := &standbyLease{failures: 2, called: make(chan struct{})}
	a, _ := newAdapter(t, cfg, telegram.WithLease(lease))
	start(t, a, newRecorder()).ready(t)
	lease.mu.Lock()
	calls := lease.calls
	lease.mu.Unlock()
	if calls != lease.failures+1 {
		t.Fatalf("ready after %d lease attempts, want %d: the first that did not fail", calls, lease.failures+1)
	}
	// Some attempts later the adapter still stands by, without polling.
	lease.awaitCalls(t, calls+3)
	if n := len(srv.Calls("getUpdates")); n != 0 {
		t.Fatalf("%d getUpdates calls while standing by", n)
	}
}

// A webhook adapter is ready once it listens and setWebhook succeeded,
// here after a retried 500; one whose address is taken never is.
func TestReadyWebhook(t *testing.T) {
	srv := telegramtest.New(t)
	cfg := testConfig(srv)
	cfg.Mode = telegram.ModeWebhook
	cfg.Webhook.SecretToken = secret
	cfg.Webhook.URL = "http://127.0.0.1:1/telegram" // only recorded: the fake pushes nothing without updates
	cfg.Webhook.Listen = "127.0.0.1:0"
	srv.Fail("setWebhook", 1, telegramtest.ServerError())
	a, _ := newAdapter(t, cfg)
	start(t, a, newRecorder()).ready(t)
	if calls := srv.Calls("setWebhook"); len(calls) != 2 || calls[1].Status != http.StatusOK {
		t.Fatalf("ready after setWebhook calls %+v, want a 500 then a 200", calls)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg.Webhook.URL = ""
	cfg.Webhook.Listen = taken.Addr().String()
	b, _ := newAdapter(t, cfg)
	hb := adapters.NewHost(b)
	if err := hb.Run(context.Background(), newRecorder()); err == nil {
		t.Fatal("Run on a taken address succeeded")
	}
	if isReady(hb) {
		t.Fatal("ready though it could not listen")
	}
}
