package ratelimittest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/ratelimit"
)

// Slack is how far a returned wait may fall short of the one the suite
// computes: the time that passed between the calls of a case, by the
// Limiter's clock. A Limiter on a fake clock that stands still meets
// every case exactly.
const Slack = 300 * time.Millisecond

// New returns two Limiters that share their state (two processes on one
// Redis; for a Limiter of one process, the same one twice), fresh for
// the test: no key of an earlier test is seen.
type New func(t *testing.T) (a, b ratelimit.Limiter)

// Run runs every case on Limiters that newLimiters makes.
func Run(t *testing.T, newLimiters New) {
	cases := []struct {
		name string
		f    func(*testing.T, New)
	}{
		{"SpacesCalls", SpacesCalls},
		{"Burst", Burst},
		{"AllLimitsAtOnce", AllLimitsAtOnce},
		{"Pause", Pause},
		{"Settle", Settle},
		{"Shared", Shared},
		{"Concurrent", Concurrent},
		{"BadLimits", BadLimits},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.f(t, newLimiters) })
	}
}

// near fails t unless got is want or at most Slack less.
func near(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if got > want || got < want-Slack {
		t.Errorf("%s: wait %v, want %v (or up to %v less)", what, got, want, Slack)
	}
}

func reserve(t *testing.T, l ratelimit.Limiter, limits ...ratelimit.Limit) time.Duration {
	t.Helper()
	d, err := l.Reserve(context.Background(), limits...)
	if err != nil {
		t.Fatalf("Reserve(%v): %v", limits, err)
	}
	return d
}

// SpacesCalls: a fresh limit lets a call go at once, and the next waits
// a spacing; a lifted limit never waits.
func SpacesCalls(t *testing.T, newLimiters New) {
	l, _ := newLimiters(t)
	lim := ratelimit.PerSecond("chat:1", 1)
	near(t, "first call", reserve(t, l, lim), 0)
	near(t, "second call", reserve(t, l, lim), time.Second)
	near(t, "third call", reserve(t, l, lim), 2*time.Second)
	near(t, "another key", reserve(t, l, ratelimit.PerSecond("chat:2", 1)), 0)
	lifted := ratelimit.PerSecond("chat:3", 0)
	for range 3 {
		near(t, "a lifted limit", reserve(t, l, lifted), 0)
	}
}

// Burst: Burst calls go at once, then one a spacing.
func Burst(t *testing.T, newLimiters New) {
	l, _ := newLimiters(t)
	lim := ratelimit.Limit{Key: "method:post", Every: time.Second, Burst: 3}
	for range 3 {
		near(t, "call in the burst", reserve(t, l, lim), 0)
	}
	near(t, "call after the burst", reserve(t, l, lim), time.Second)
	near(t, "next call", reserve(t, l, lim), 2*time.Second)
}

// AllLimitsAtOnce: a call waits for the slowest of its limits, and takes
// that same slot of each, so a chat's next call is spaced from when its
// last one went, not from when it asked.
func AllLimitsAtOnce(t *testing.T, newLimiters New) {
	l, _ := newLimiters(t)
	bot := ratelimit.PerSecond("bot:{7}", 1)
	chat := func(id string) ratelimit.Limit { return ratelimit.PerSecond("bot:{7}:chat:"+id, 0.5) }
	near(t, "bot's first call", reserve(t, l, bot), 0)
	near(t, "chat a, behind the bot", reserve(t, l, bot, chat("a")), time.Second)
	// Chat a's slot was taken at 1s: its next is at 3s, and the bot's
	// at 3s too.
	near(t, "chat a again", reserve(t, l, bot, chat("a")), 3*time.Second)
	near(t, "chat b, behind the bot", reserve(t, l, bot, chat("b")), 4*time.Second)
	near(t, "chat a alone", reserve(t, l, chat("a")), 5*time.Second)
}

// Pause: a paused key holds back calls that count against it, only
// them, and a shorter pause leaves a longer one in place.
func Pause(t *testing.T, newLimiters New) {
	l, _ := newLimiters(t)
	ctx := context.Background()
	paused, other := ratelimit.PerSecond("chat:{p}:1", 10), ratelimit.PerSecond("chat:{p}:2", 10)
	if err := l.Pause(ctx, paused.Key, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := l.Pause(ctx, paused.Key, time.Second); err != nil {
		t.Fatal(err)
	}
	near(t, "paused key", reserve(t, l, paused), 5*time.Second)
	near(t, "paused key's next call", reserve(t, l, paused), 5*time.Second+100*time.Millisecond)
	near(t, "other key", reserve(t, l, other), 0)
	near(t, "both keys", reserve(t, l, other, paused), 5*time.Second+200*time.Millisecond)
	lifted := ratelimit.Limit{Key: paused.Key + ":lifted"}
	if err := l.Pause(ctx, lifted.Key, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	near(t, "a lifted limit's pause", reserve(t, l, lifted), 3*time.Second)
	near(t, "a lifted limit's pause, again", reserve(t, l, lifted), 3*time.Second)
	if err := l.Pause(ctx, "", time.Second); !errors.Is(err, ratelimit.ErrBadLimit) {
		t.Errorf("a pause of no key: %v, want ErrBadLimit", err)
	}
}

// Settle: a call answered late counts as made then; one answered
// before its next slot changes nothing.
func Settle(t *testing.T, newLimiters New) {
	a, b := newLimiters(t)
	ctx := context.Background()
	chat := ratelimit.PerSecond("bot:{t}:chat:1", 1)
	near(t, "first call", reserve(t, a, chat), 0)
	if err := a.Settle(ctx, chat); err != nil {
		t.Fatal(err)
	}
	near(t, "after a settle at once", reserve(t, b, chat), time.Second)
	// The second call's slot is at 1s: settling now leaves the third at
	// 2s, as without.
	if err := b.Settle(ctx, chat); err != nil {
		t.Fatal(err)
	}
	near(t, "third call", reserve(t, a, chat), 2*time.Second)
	idle := ratelimit.PerSecond("bot:{t}:chat:2", 1)
	if err := a.Settle(ctx, idle); err != nil {
		t.Fatal(err)
	}
	near(t, "a key settled without a call", reserve(t, a, idle), time.Second)
	if err := a.Settle(ctx, ratelimit.Limit{}); !errors.Is(err, ratelimit.ErrBadLimit) {
		t.Errorf("a settle of no key: %v, want ErrBadLimit", err)
	}
}

// Shared: two Limiters on one state keep one limit together, pauses
// included.
func Shared(t *testing.T, newLimiters New) {
	a, b := newLimiters(t)
	lim := ratelimit.PerSecond("bot:{s}", 1)
	near(t, "a's call", reserve(t, a, lim), 0)
	near(t, "b's call", reserve(t, b, lim), time.Second)
	near(t, "a's next call", reserve(t, a, lim), 2*time.Second)
	other := ratelimit.PerSecond("bot:{s}:chat:9", 1)
	if err := a.Pause(context.Background(), other.Key, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	near(t, "b's call to a key a paused", reserve(t, b, other), 4*time.Second)
}

// Concurrent: calls racing for one limit each get a slot of their own.
func Concurrent(t *testing.T, newLimiters New) {
	a, b := newLimiters(t)
	const n = 20
	lim := ratelimit.PerSecond("bot:{c}", 1)
	waits := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			d, err := l.Reserve(context.Background(), lim)
			if err != nil {
				t.Error(err)
			}
			waits[i] = d
		})
	}
	wg.Wait()
	slices.Sort(waits)
	for i, d := range waits {
		near(t, "racing call", d, time.Duration(i)*time.Second)
	}
}

// BadLimits: an empty key, or a key given twice, is ErrBadLimit; a
// cancelled context is its error.
func BadLimits(t *testing.T, newLimiters New) {
	l, _ := newLimiters(t)
	ctx := context.Background()
	if _, err := l.Reserve(ctx, ratelimit.PerSecond("", 1)); !errors.Is(err, ratelimit.ErrBadLimit) {
		t.Errorf("empty key: %v, want ErrBadLimit", err)
	}
	if _, err := l.Reserve(ctx, ratelimit.PerSecond("k", 1), ratelimit.PerSecond("k", 2)); !errors.Is(err, ratelimit.ErrBadLimit) {
		t.Errorf("a key twice: %v, want ErrBadLimit", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Reserve(cancelled, ratelimit.PerSecond("k", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}
