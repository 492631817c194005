package telegram

import (
	"context"
	"sync"
	"time"
)

// limiter spaces outbound messages so that none goes faster than
// Telegram's limits: per chat (private chats and groups differ) and for
// the whole bot. A message waits for its slot; nothing is dropped.
//
// Slots are spacings, not token buckets: a bucket's burst would let a
// group get 20 messages at the end of one minute and 20 at the start of
// the next, which Telegram counts as 40 in a minute.
type limiter struct {
	clock               Clock
	global, chat, group time.Duration // zero: no limit

	mu        sync.Mutex
	gnext     time.Time           // the next free global slot
	paused    time.Time           // the bot is paused until then (a 429)
	next      map[int64]time.Time // the next free slot per chat
	lastSweep time.Time
}

func interval(perSecond float64) time.Duration {
	if perSecond <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / perSecond)
}

func newLimiter(l Limits, c Clock) *limiter {
	return &limiter{clock: c, global: interval(l.Global), chat: interval(l.Chat),
		group: interval(l.Group / 60), next: map[int64]time.Time{}}
}

// wait blocks until a message to chat may go. A message waits for its
// chat's slot first and only then takes a global slot, so that a busy
// chat never holds global slots other chats could use.
func (l *limiter) wait(ctx context.Context, chat int64) error {
	iv := l.chat
	if chat < 0 { // groups, supergroups and channels have negative ids
		iv = l.group
	}
	if iv > 0 || l.hasPauses() {
		l.mu.Lock()
		now := l.clock.Now()
		t := later(now, l.next[chat])
		l.next[chat] = t.Add(iv)
		l.sweepLocked(now)
		l.mu.Unlock()
		if err := sleep(ctx, l.clock, t.Sub(now)); err != nil {
			return err
		}
	}
	return l.waitGlobal(ctx)
}

// waitGlobal blocks until the bot may make a call.
func (l *limiter) waitGlobal(ctx context.Context) error {
	if l.global <= 0 && !l.hasPauses() {
		return nil
	}
	l.mu.Lock()
	now := l.clock.Now()
	t := later(later(now, l.gnext), l.paused)
	l.gnext = t.Add(l.global)
	l.mu.Unlock()
	return sleep(ctx, l.clock, t.Sub(now))
}

// hasPauses reports whether a 429 paused anything, which makes even
// unlimited limiters keep slots.
func (l *limiter) hasPauses() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.paused.IsZero() || len(l.next) > 0
}

// pauseChat keeps chat's messages back for d, as a 429 asks.
func (l *limiter) pauseChat(chat int64, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	until := l.clock.Now().Add(d)
	l.next[chat] = later(l.next[chat], until)
}

// pauseBot keeps every call back for d.
func (l *limiter) pauseBot(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = later(l.paused, l.clock.Now().Add(d))
}

// sweepLocked forgets chats whose slot has passed, at most once a
// minute, so that the map does not grow with every chat ever written to.
func (l *limiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for id, t := range l.next {
		if t.Before(now) {
			delete(l.next, id)
		}
	}
	if l.paused.Before(now) {
		l.paused = time.Time{}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
