package slack_test

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
)

// stillClock is a clock that never moves by itself and records every wait
// asked of it through After; those waits end at once. It makes rate
// limiting and Retry-After observable without sleeping. Its AfterFunc
// timers never fire: time does not move.
type stillClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *stillClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stillClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

func (c *stillClock) AfterFunc(time.Duration, func()) func() bool { return func() bool { return true } }

func (c *stillClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func (c *stillClock) option() slack.Option { return slack.WithClock(c) }

// manualClock moves only when Advance is called, and fires the timers
// that came due then.
type manualClock struct {
	mu      sync.Mutex
	t       time.Time
	timers  map[*manualTimer]struct{}
	changed chan struct{} // closed and replaced when a timer is armed
}

type manualTimer struct {
	at time.Time
	f  func()
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Unix(1_700_000_000, 0), timers: map[*manualTimer]struct{}{}, changed: make(chan struct{})}
}

func (c *manualClock) option() slack.Option { return slack.WithClock(c) }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.AfterFunc(d, func() { ch <- c.Now() })
	return ch
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &manualTimer{at: c.t.Add(d), f: f}
	c.timers[tm] = struct{}{}
	close(c.changed)
	c.changed = make(chan struct{})
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, armed := c.timers[tm]
		delete(c.timers, tm)
		return armed
	}
}

// Advance moves the clock on by d and runs the timers that came due, in
// the calling goroutine.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []*manualTimer
	for tm := range c.timers {
		if !tm.at.After(c.t) {
			due = append(due, tm)
			delete(c.timers, tm)
		}
	}
	c.mu.Unlock()
	for _, tm := range due {
		tm.f()
	}
}

// WaitTimers waits until at least n timers are armed.
func (c *manualClock) WaitTimers(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(fakeslack.Timeout)
	for {
		c.mu.Lock()
		armed, ch := len(c.timers), c.changed
		c.mu.Unlock()
		if armed >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%d timers armed within %v, want %d", armed, fakeslack.Timeout, n)
		}
	}
}
