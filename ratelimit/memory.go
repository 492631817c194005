package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory is a Limiter for one process. Its zero value is not usable: make
// one with NewMemory.
type Memory struct {
	now func() time.Time

	mu        sync.Mutex
	tat       map[string]time.Time // theoretical arrival time of each key's next call
	paused    map[string]time.Time // keys held back until then
	lastSweep time.Time
}

var _ Limiter = (*Memory)(nil)

// MemoryOption configures a Memory.
type MemoryOption func(*Memory)

// WithNow sets the Memory's clock. Default: time.Now.
func WithNow(now func() time.Time) MemoryOption { return func(m *Memory) { m.now = now } }

// NewMemory returns a Limiter that keeps its limits in this process.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{now: time.Now, tat: map[string]time.Time{}, paused: map[string]time.Time{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Reserve implements Limiter.
func (m *Memory) Reserve(ctx context.Context, limits ...Limit) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := Check(limits); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweepLocked(now)
	at := now
	for _, l := range limits {
		if l.Every > 0 {
			at = later(at, m.tat[l.Key].Add(-l.Tolerance()))
		}
		at = later(at, m.paused[l.Key])
	}
	for _, l := range limits {
		if l.Every > 0 {
			m.tat[l.Key] = later(m.tat[l.Key], at).Add(l.Every)
		}
	}
	return at.Sub(now), nil
}

// Settle implements Limiter.
func (m *Memory) Settle(ctx context.Context, limits ...Limit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := Check(limits); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, l := range limits {
		if l.Every > 0 {
			m.tat[l.Key] = later(m.tat[l.Key], now.Add(l.Every))
		}
	}
	return nil
}

// Pause implements Limiter.
func (m *Memory) Pause(ctx context.Context, key string, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("%w: pause of no key", ErrBadLimit)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.paused[key] = later(m.paused[key], m.now().Add(d))
	return nil
}

// sweepLocked forgets, at most once a minute, keys whose state has
// passed: a key whose next call may go now is the same as a new one, so
// the maps do not grow with every chat ever written to.
func (m *Memory) sweepLocked(now time.Time) {
	if now.Sub(m.lastSweep) < time.Minute {
		return
	}
	m.lastSweep = now
	for k, t := range m.tat {
		if !t.After(now) {
			delete(m.tat, k)
		}
	}
	for k, t := range m.paused {
		if !t.After(now) {
			delete(m.paused, k)
		}
	}
}

// Len returns how many keys m holds state for: for tests of the sweep.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat) + len(m.paused)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
