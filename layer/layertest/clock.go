package layertest

import (
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
)

// Clock is a manual clock for backends that accept an injected one, so
// that expiry cases move time instead of waiting for it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// clocked is a layer paired with the clock that drives it.
type clocked struct {
	layer.Layer
	clock *Clock
}

// WithClock pairs l with the clock it was built with, so that AdvanceClock
// can find the clock again. A factory returns WithClock(l, c) and sets
// Features.Advance to AdvanceClock.
func WithClock(l layer.Layer, c *Clock) layer.Layer { return clocked{l, c} }

// AdvanceClock is a Features.Advance for factories that return layers
// made by WithClock. It panics for any other layer, which is a mistake in
// the factory.
func AdvanceClock(l layer.Layer, d time.Duration) {
	c, ok := l.(clocked)
	if !ok {
		panic("layertest: AdvanceClock needs a layer returned by WithClock")
	}
	c.clock.Advance(d)
}

// Unwrap gives the layer, so that its optional capabilities (such as
// layer.Subscriber) are found through the pair.
func (c clocked) Unwrap() layer.Layer { return c.Layer }
