package slack

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, up to burst at once. Wait
// takes a token, waiting for one when none is left; callers queue in the
// order their reservations were made, which keeps one channel's messages
// in order.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	after  func(time.Duration) <-chan time.Time
	waited func(time.Duration) // told every positive wait; nil: nobody
}

func newBucket(rate float64, burst int, now func() time.Time, after func(time.Duration) <-chan time.Time,
	waited func(time.Duration)) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now, after: after,
		waited: waited}
}

// Wait takes a token, waiting until ctx ends at most. A token reserved by
// a Wait that was cancelled is not given back: the bucket errs on the slow
// side.
func (b *bucket) Wait(ctx context.Context) error {
	b.mu.Lock()
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens--
	var wait time.Duration
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens / b.rate * float64(time.Second))
	}
	b.mu.Unlock()
	if wait <= 0 {
		return ctx.Err()
	}
	var err error
	select {
	case <-b.after(wait):
	case <-ctx.Done():
		err = ctx.Err()
		wait = min(wait, b.now().Sub(now)) // the part spent waiting
	}
	if b.waited != nil && wait > 0 {
		b.waited(wait)
	}
	return err
}

// settle moves the token a call took at from to now, when the call was
// answered: a call held up on its way (a stalled process, a busy network)
// then leaves the next one a whole spacing after it reached Slack, not
// after it was let go. It costs a call at most one more token.
func (b *bucket) settle(from time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= min(1, now.Sub(from).Seconds()*b.rate)
}

// pause holds calls back until a time, after a 429: Slack's Retry-After
// applies to the method for the whole app, not to the one call.
func (b *bucket) pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Spending tokens ahead makes every caller wait past until.
	if owed := until.Sub(b.now()).Seconds() * b.rate; owed > 0 && -b.tokens < owed {
		b.tokens = -owed
		b.last = b.now()
	}
}

// Web API rate tiers, in calls a minute per workspace
// (https://api.slack.com/apis/rate-limits). chat.postMessage has its own
// special limit, about one message a second per channel, applied per
// channel besides.
var methodTiers = map[string]float64{
	"chat.postMessage":   60 * 10, // special: per channel below; a workspace-wide cap
	"chat.update":        50,      // tier 3
	"chat.postEphemeral": 100,     // tier 4
	"reactions.add":      50,      // tier 3
	"auth.test":          100,     // tier 4
}

// methodPerMin returns the calls a minute allowed to a Web API method:
// the config's override, else Slack's tier.
func methodPerMin(overrides map[string]float64, name string) float64 {
	if perMin, ok := overrides[name]; ok {
		return perMin
	}
	if perMin, ok := methodTiers[name]; ok {
		return perMin
	}
	return 20 // tier 2, the safe guess
}

// limits holds the per-method and per-channel buckets.
type limits struct {
	mu       sync.Mutex
	methods  map[string]*bucket
	channels map[string]*bucket
	rate     float64
	burst    int
	perMin   map[string]float64 // overrides of methodTiers
	now      func() time.Time
	after    func(time.Duration) <-chan time.Time
	// waited is given to every bucket: set once, before use, and nil
	// unless the adapter has an Observer.
	waited func(time.Duration)
}

func newLimits(rate float64, burst int, perMin map[string]float64, now func() time.Time, after func(time.Duration) <-chan time.Time) *limits {
	return &limits{methods: map[string]*bucket{}, channels: map[string]*bucket{},
		rate: rate, burst: burst, perMin: perMin, now: now, after: after}
}

func (l *limits) method(name string) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.methods[name]
	if b == nil {
		perMin := methodPerMin(l.perMin, name)
		b = newBucket(perMin/60, max(1, int(perMin/10)), l.now, l.after, l.waited)
		l.methods[name] = b
	}
	return b
}

// channel returns a channel's chat.postMessage bucket. Buckets of idle
// channels are full again and are dropped once many have piled up, so a
// bot in ten thousand channels does not keep ten thousand buckets.
func (l *limits) channel(id string) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.channels[id]
	if b == nil {
		if len(l.channels) >= 10_000 {
			full := time.Duration(float64(l.burst) / l.rate * float64(time.Second))
			for k, c := range l.channels {
				c.mu.Lock()
				idle := l.now().Sub(c.last) > full && c.tokens >= 0
				c.mu.Unlock()
				if idle {
					delete(l.channels, k)
				}
			}
		}
		b = newBucket(l.rate, l.burst, l.now, l.after, l.waited)
		l.channels[id] = b
	}
	return b
}
