package telegram

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// limiter spaces outbound messages so that none goes faster than
// Telegram's limits: per chat (private chats and groups differ) and for
// the whole bot. A message waits for its slot; nothing is dropped.
//
// Slots are spacings, not token buckets: a bucket's burst would let a
// group get 20 messages at the end of one minute and 20 at the start of
// the next, which Telegram counts as 40 in a minute.
//
// A chat's next slot is counted from the moment its previous message was
// actually let go (after the global wait), and one message per chat waits
// at a time; a message takes a global slot only once its chat's slot has
// come, so a busy chat never holds global slots other chats could use.
type limiter struct {
	clock               Clock
	global, chat, group time.Duration // zero: no limit

	mu        sync.Mutex
	gnext     time.Time // the next free global slot
	last      time.Time // when the last call was let go
	paused    time.Time // the bot is paused until then (a 429)
	chats     map[int64]*chatSlot
	lastSweep time.Time
	granted   func(chat int64, at time.Time) // for tests: called with mu held
	// waited, when set, is told every positive wait for a slot. It stays
	// nil unless the Host has an Observer, so that without one a wait
	// costs no clock reading.
	waited atomic.Pointer[adapters.Report]
}

// chatSlot is one chat's place in the limiter.
type chatSlot struct {
	turn  chan struct{} // holds a token while a message to the chat waits
	next  time.Time     // guarded by limiter.mu
	users int           // guarded by limiter.mu: waiters holding the pointer
}

func interval(perSecond float64) time.Duration {
	if perSecond <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / perSecond)
}

func newLimiter(l Limits, c Clock) *limiter {
	return &limiter{clock: c, global: interval(l.Global), chat: interval(l.Chat),
		group: interval(l.Group / 60), chats: map[int64]*chatSlot{}}
}

// wait blocks until a message to chat may go.
func (l *limiter) wait(ctx context.Context, chat int64) error {
	iv := l.chat
	if chat < 0 { // groups, supergroups and channels have negative ids
		iv = l.group
	}
	l.mu.Lock()
	cs := l.chats[chat]
	if cs == nil {
		if iv <= 0 && l.global <= 0 && l.paused.IsZero() {
			l.mu.Unlock()
			return nil // no limits and no 429 pending: the fast path
		}
		cs = &chatSlot{turn: make(chan struct{}, 1)}
		l.chats[chat] = cs
	}
	cs.users++
	l.sweepLocked(l.clock.Now())
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		cs.users--
		l.mu.Unlock()
	}()

	select {
	case cs.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-cs.turn }()
	l.mu.Lock()
	d := cs.next.Sub(l.clock.Now())
	l.mu.Unlock()
	if err := l.sleep(ctx, d); err != nil {
		return err
	}
	at, err := l.grant(ctx)
	if err != nil {
		return err
	}
	l.mu.Lock()
	cs.next = later(cs.next, at.Add(iv))
	if l.granted != nil {
		l.granted(chat, at)
	}
	l.mu.Unlock()
	return nil
}

// waitGlobal blocks until the bot may make a call. Slots are handed out
// in order (gnext); a waiter whose timer fired late, together with
// others, still goes only a global interval after the last one that went
// (last), so late timers never bunch calls.
func (l *limiter) waitGlobal(ctx context.Context) error {
	_, err := l.grant(ctx)
	return err
}

// grant is waitGlobal, returning when the call was let go.
func (l *limiter) grant(ctx context.Context) (time.Time, error) {
	l.mu.Lock()
	if l.global <= 0 && l.paused.IsZero() {
		now := l.clock.Now()
		l.mu.Unlock()
		return now, nil
	}
	now := l.clock.Now()
	t := later(later(now, l.gnext), later(l.last.Add(l.global), l.paused))
	l.gnext = t.Add(l.global)
	for {
		if !t.After(now) {
			l.last = now
			l.mu.Unlock()
			return now, nil
		}
		l.mu.Unlock()
		if err := l.sleep(ctx, t.Sub(now)); err != nil {
			return time.Time{}, err
		}
		l.mu.Lock()
		now = l.clock.Now()
		t = later(l.last.Add(l.global), l.paused)
	}
}

// sleep waits d for a slot, and reports the wait. A wait that ctx cuts
// short reports the time it lasted, by the limiter's clock.
func (l *limiter) sleep(ctx context.Context, d time.Duration) error {
	r := l.waited.Load()
	if r == nil || d <= 0 {
		return adapters.Sleep(ctx, l.clock, d)
	}
	start := l.clock.Now()
	err := adapters.Sleep(ctx, l.clock, d)
	if err != nil {
		d = min(d, l.clock.Now().Sub(start))
	}
	r.Waited(d)
	return err
}

// settle counts chat's slot again from now, when its message was
// answered, if that is later: a message held up on its way (a stalled
// process, a busy network) then leaves the chat's next one a whole
// interval after it reached Telegram, not after it was let go. A chat's
// messages go one at a time, so the next one always waits for this.
func (l *limiter) settle(chat int64) {
	iv := l.chat
	if chat < 0 {
		iv = l.group
	}
	if iv <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cs := l.chats[chat]; cs != nil {
		cs.next = later(cs.next, l.clock.Now().Add(iv))
	}
}

// pauseChat keeps chat's messages back for d, as a 429 asks.
func (l *limiter) pauseChat(chat int64, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.chats[chat]
	if cs == nil {
		cs = &chatSlot{turn: make(chan struct{}, 1)}
		l.chats[chat] = cs
	}
	cs.next = later(cs.next, l.clock.Now().Add(d))
}

// pauseBot keeps every call back for d.
func (l *limiter) pauseBot(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = later(l.paused, l.clock.Now().Add(d))
}

// sweepLocked forgets chats whose slot has passed and that nobody waits
// for, at most once a minute, so that the map does not grow with every
// chat ever written to.
func (l *limiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for id, cs := range l.chats {
		if cs.users == 0 && cs.next.Before(now) {
			delete(l.chats, id)
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
