// Package clocktest is a clock for tests that moves only when told to. It
// has the methods of every clock the project injects (scope.Clock and the
// adapters' own), so that a test steps time instead of waiting for it.
package clocktest

import (
	"sync"
	"testing"
	"time"
)

// Clock is a fake clock. Make it with New.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []timer
	waits  chan time.Duration // each After's duration, for tests to await
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// New returns a Clock standing at start.
func New(start time.Time) *Clock {
	return &Clock{now: start, waits: make(chan time.Duration, 1000)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once the clock has been moved d
// on, and reports d to NextWait.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, timer{c.now.Add(d), ch})
	select {
	case c.waits <- d:
	default: // nobody counts waits this far behind
	}
	return ch
}

// Advance moves the clock d on, firing every timer due by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.now) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- c.now
	}
	c.timers = kept
}

// NextWait returns the duration of the next After call, in call order,
// failing t if none comes within 10 s of real time.
func (c *Clock) NextWait(t testing.TB) time.Duration {
	t.Helper()
	select {
	case d := <-c.waits:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("nothing waited on the clock within 10s")
		return 0
	}
}
