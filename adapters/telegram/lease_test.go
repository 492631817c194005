package telegram_test

import (
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// Two adapters sharing a lease: only one polls (Telegram never answers
// 409), and when it stops the other takes over.
func TestLeaseOnePollerAndTakeover(t *testing.T) {
	srv := telegramtest.New(t)
	lease := telegram.NewMemoryLease(nil)
	cfg := testConfig(srv)
	cfg.Polling.LeaseTTL = 300 * time.Millisecond
	rec := newRecorder()
	a1, _ := newAdapter(t, cfg, telegram.WithLease(lease))
	r1 := start(t, a1, rec)
	srv.Text(1, 1, "first")
	rec.await(t, "the first message", func() bool { return rec.texts["first"] == 1 })

	a2, _ := newAdapter(t, cfg, telegram.WithLease(lease))
	start(t, a2, rec)
	srv.Text(1, 1, "second")
	rec.await(t, "the second message", func() bool { return rec.texts["second"] == 1 })
	if n := srv.Conflicts(); n != 0 {
		t.Fatalf("%d getUpdates answered 409: both adapters polled", n)
	}

	r1.kill(t) // a hard stop still releases the lease on the way out
	srv.Text(1, 1, "third")
	rec.await(t, "the third message, through the second adapter", func() bool { return rec.texts["third"] == 1 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for text, n := range rec.texts {
		if n != 1 {
			t.Errorf("%s handled %d times", text, n)
		}
	}
}

type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time                         { return c.now }
func (c *manualClock) After(d time.Duration) <-chan time.Time { return make(chan time.Time) }

// A holder that stops renewing loses the lease when its ttl passes, and
// cannot renew it once another process took it.
func TestMemoryLeaseExpires(t *testing.T) {
	clock := &manualClock{now: time.Unix(1000, 0)}
	l := telegram.NewMemoryLease(clock)
	ctx := t.Context()
	if ok, _ := l.Acquire(ctx, "k", "a", time.Second); !ok {
		t.Fatal("a cannot take a free lease")
	}
	if ok, _ := l.Acquire(ctx, "k", "b", time.Second); ok {
		t.Fatal("b took a held lease")
	}
	clock.now = clock.now.Add(900 * time.Millisecond)
	if ok, _ := l.Renew(ctx, "k", "a", time.Second); !ok {
		t.Fatal("a cannot renew its lease")
	}
	clock.now = clock.now.Add(time.Second)
	if ok, _ := l.Acquire(ctx, "k", "b", time.Second); !ok {
		t.Fatal("b cannot take an expired lease")
	}
	if ok, _ := l.Renew(ctx, "k", "a", time.Second); ok {
		t.Fatal("a renewed a lease b holds")
	}
	_ = l.Release(ctx, "k", "a") // not a's: no effect
	if ok, _ := l.Acquire(ctx, "k", "a", time.Second); ok {
		t.Fatal("a's release freed b's lease")
	}
}
