package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/ratelimit"
	"github.com/switchboard-bots/switchboard/ratelimit/ratelimittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a fake clock that stands still unless moved.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(*testing.T) (ratelimit.Limiter, ratelimit.Limiter) {
		c := &clock{now: time.Unix(1_700_000_000, 0)}
		m := ratelimit.NewMemory(ratelimit.WithNow(c.Now))
		return m, m
	})
}

func TestMemoryConformanceWallClock(t *testing.T) {
	ratelimittest.Run(t, func(*testing.T) (ratelimit.Limiter, ratelimit.Limiter) {
		m := ratelimit.NewMemory()
		return m, m
	})
}

// A limit's slots are counted on the clock: once it moved past them, a
// call goes at once again.
func TestMemoryClockMoves(t *testing.T) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	m := ratelimit.NewMemory(ratelimit.WithNow(c.Now))
	lim := ratelimit.PerSecond("chat", 1)
	ctx := context.Background()
	for i, want := range []time.Duration{0, time.Second, 2 * time.Second} {
		if d, _ := m.Reserve(ctx, lim); d != want {
			t.Fatalf("call %d: wait %v, want %v", i, d, want)
		}
	}
	c.Add(2500 * time.Millisecond)
	if d, _ := m.Reserve(ctx, lim); d != 500*time.Millisecond {
		t.Fatalf("after 2.5s: wait %v, want 500ms", d)
	}
	c.Add(10 * time.Second)
	if d, _ := m.Reserve(ctx, lim); d != 0 {
		t.Fatalf("after a quiet spell: wait %v, want 0", d)
	}
}

// Keys whose slots have passed are forgotten, so that a bot writing to
// many chats does not keep them all.
func TestMemoryForgetsIdleKeys(t *testing.T) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	m := ratelimit.NewMemory(ratelimit.WithNow(c.Now))
	ctx := context.Background()
	for i := range 1000 {
		if _, err := m.Reserve(ctx, ratelimit.PerSecond("chat:"+string(rune('a'+i%26))+string(rune('a'+i/26)), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Pause(ctx, "bot", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := m.Len(); n != 1001 {
		t.Fatalf("%d keys held, want 1001", n)
	}
	c.Add(2 * time.Minute)
	if _, err := m.Reserve(ctx, ratelimit.PerSecond("chat:new", 1)); err != nil {
		t.Fatal(err)
	}
	if n := m.Len(); n != 1 {
		t.Fatalf("%d keys held after two idle minutes, want 1 (the new one)", n)
	}
}

// A call answered late counts as made when answered: the next waits a
// whole spacing from then.
func TestMemorySettleLate(t *testing.T) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	m := ratelimit.NewMemory(ratelimit.WithNow(c.Now))
	lim := ratelimit.PerSecond("chat", 1)
	ctx := context.Background()
	if d, _ := m.Reserve(ctx, lim); d != 0 {
		t.Fatalf("first call waits %v", d)
	}
	c.Add(1500 * time.Millisecond) // the call was answered late
	if err := m.Settle(ctx, lim); err != nil {
		t.Fatal(err)
	}
	if d, _ := m.Reserve(ctx, lim); d != time.Second {
		t.Fatalf("after a late answer: wait %v, want 1s", d)
	}
}
