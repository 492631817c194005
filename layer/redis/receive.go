package redis

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// Receivers do not each block in Redis. A process runs one receive loop (a
// poller) per key that someone in it is receiving from, while someone is:
// for an ordinary channel, the channel's key; for process-local channels,
// the key all of them with one prefix share. The loop of an ordinary
// channel pops one message at a time and hands it to a waiting receiver;
// that of process-local channels pops what waits, up to popBatch messages
// a round trip, and hands each to the subscriber or waiting receiver of
// the channel it names, or keeps it for that channel. This is what lets Receive honour its
// context at once although a blocking pop cannot be abandoned: a receiver
// that gives up simply stops waiting, and a message popped for nobody goes
// back where it was, with its old score, before the loop pops again.

// A receiver that finds its channel's messages already waiting, as a
// consumer that keeps up does, takes the oldest itself with one
// non-blocking ZPOPMIN: no loop to wake, no hand-over between goroutines.
// That call is not cut short by ctx either, for the same reason, but it
// does not block: it ends with Redis' answer or the client's read timeout.

// waiter is a blocked Receive. The poller hands it one message and forgets
// it, so a message is never both handed over and kept.
type waiter struct {
	ev chan event.Event // buffered: the poller never blocks on it
}

// waiters recycles waiters, whose channels would otherwise be made for
// every Receive that has to wait. A waiter goes back only once its
// Receive has taken what was handed to it, or has removed it from its
// inbox unhanded, so a recycled one is empty and referenced by nobody.
var waiters = sync.Pool{New: func() any { return &waiter{ev: make(chan event.Event, 1)} }}

// inbox is one channel's waiters and, for process-local channels, the
// messages popped for it that nobody has received yet.
type inbox struct {
	waiters []*waiter
	buf     []buffered
	sub     *subscription // takes every message when set; see Subscribe
}

type buffered struct {
	ev event.Event
	at int64 // score, in microseconds
}

// Receive takes the oldest unexpired message from channel. It returns as
// soon as ctx ends or the layer closes, whatever Redis is doing; while
// Redis is unreachable it keeps waiting, and the receive loop retries with
// backoff, so callers need no retry loop of their own. When ctx ends, the
// error is ctx's, and also wraps ErrUnavailable when Redis failed or did
// not answer meanwhile (see the package documentation on faults).
func (l *Layer) Receive(ctx context.Context, channel string) (event.Event, error) {
	if err := layer.ValidChannelName(channel); err != nil {
		return nil, invalid(err)
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	local := strings.IndexByte(channel, '!') >= 0
	if local && !strings.HasSuffix(nonLocal(channel), l.clientID+"!") {
		return nil, refuse("receive from", channel, ErrForeignChannel)
	}
	if !local {
		ev, err := l.popNow(ctx, channel)
		if ev != nil || err != nil {
			return ev, err
		}
	}
	p := l.poller(channel, local) // returns p locked
	ib := p.inboxes[channel]
	if ib == nil {
		ib = &inbox{}
		p.inboxes[channel] = ib
	}
	if ev := p.take(ib); ev != nil {
		p.tidy(channel, ib)
		p.mu.Unlock()
		return ev, nil
	}
	if err := ctx.Err(); err != nil {
		p.tidy(channel, ib)
		p.mu.Unlock()
		return nil, err
	}
	w := waiters.Get().(*waiter)
	ib.waiters = append(ib.waiters, w)
	p.waiting++
	p.wakeOrStart()
	sh := p.sh
	p.mu.Unlock()

	stop := func() bool { return false }
	if ctx.Done() != nil {
		stop = l.watch(ctx, sh, time.Now().UnixNano())
	}
	select {
	case ev := <-w.ev:
		stop()
		waiters.Put(w)
		return ev, nil
	case <-ctx.Done():
	case <-l.done:
	}
	quiet := stop()
	p.mu.Lock()
	i := indexOf(ib.waiters, w)
	if i < 0 { // handed a message as we gave up: it is ours
		p.mu.Unlock()
		ev := <-w.ev
		waiters.Put(w)
		return ev, nil
	}
	ib.waiters = append(ib.waiters[:i], ib.waiters[i+1:]...)
	p.waiting--
	p.tidy(channel, ib)
	lastErr := p.lastErr
	p.mu.Unlock()
	// Nobody else holds w now, and its channel is empty.
	waiters.Put(w)
	if l.closed.Load() {
		return nil, ErrClosed
	}
	if lastErr != nil {
		return nil, fmt.Errorf("redis: receive from %q: %w, while %w", channel, ctx.Err(), lastErr)
	}
	if quiet {
		return nil, silent(ctx, channel)
	}
	return nil, ctx.Err()
}

// popNow takes the oldest unexpired message of an ordinary channel if one
// is waiting, or returns nil. It stands aside while receivers of this
// process wait for the channel, whom the loop serves in order, while the
// loop pops, since a message it popped for a receiver that gave up goes
// back ahead of later ones, and while the loop backs off from a failure,
// which Receive then reports.
//
// The pop itself is not cut short by ctx: Redis would still pop the
// message, and the reply carrying it would be lost. It runs beside the
// caller instead. When ctx ends, the caller still waits for it until it
// has been out for probeGrace, as a server that answers does so at once,
// and takes what it brings; after that, it returns an error wrapping
// ErrUnavailable, and a message the pop brings back later goes back to
// its key with its old score, behind any taken meanwhile.
func (l *Layer) popNow(ctx context.Context, channel string) (event.Event, error) {
	if ctx.Err() != nil {
		return nil, nil
	}
	l.mu.Lock()
	p := l.pollers[channel]
	l.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		busy := p.waiting > 0 || p.popping || p.lastErr != nil
		p.mu.Unlock()
		if busy {
			return nil, nil
		}
	}
	sh := l.shardFor(channel)
	key := l.keys.channel(channel)
	var z goredis.Z
	if ctx.Done() == nil {
		var err error
		if z, err = l.zpopmin(ctx, sh, key); err != nil {
			return nil, nil // the loop retries, and reports what keeps failing
		}
	} else {
		if !l.start() {
			return nil, nil
		}
		f := &fastPop{done: make(chan struct{})}
		start := time.Now()
		go f.run(l, context.WithoutCancel(ctx), sh, key)
		select {
		case <-f.done:
		case <-ctx.Done():
			if !f.await(probeGrace - time.Since(start)) {
				return nil, silent(ctx, channel)
			}
		}
		if f.err != nil {
			return nil, nil
		}
		z = f.z
	}
	member, _ := z.Member.(string)
	if member == "" {
		return nil, nil
	}
	if int64(math.Round(z.Score*1e6)) <= l.clock.now()-l.expiryUs {
		return nil, nil // expired; the loop drops any others
	}
	ev, _, err := l.codec.decode(member)
	if err != nil {
		l.log.Warn("redis: dropped a message that does not decode", "channel", channel, "err", err)
		return nil, nil
	}
	return ev, nil
}

// zpopmin pops the oldest member of key, or returns a zero Z.
func (l *Layer) zpopmin(ctx context.Context, sh *shard, key string) (goredis.Z, error) {
	cmd := goredis.NewZSliceCmd(ctx, "zpopmin", key)
	if err := sh.cmd.Process(ctx, once{cmd}); err != nil {
		return goredis.Z{}, err
	}
	if z := cmd.Val(); len(z) > 0 {
		return z[0], nil
	}
	return goredis.Z{}, nil
}

// A fastPop is popNow's pop, run beside its caller.
type fastPop struct {
	state atomic.Int32 // popPending, then popDone or popAbandoned, set once
	done  chan struct{}
	z     goredis.Z
	err   error
}

const (
	popPending = iota
	popDone
	popAbandoned
)

// await waits up to d for the pop, and reports whether it answered; if
// not, its message, if it brings one, goes back to its key.
func (f *fastPop) await(d time.Duration) bool {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-f.done:
			return true
		case <-t.C:
		}
	}
	if f.state.CompareAndSwap(popPending, popAbandoned) {
		return false
	}
	<-f.done
	return true
}

func (f *fastPop) run(l *Layer, ctx context.Context, sh *shard, key string) {
	defer l.wg.Done()
	f.z, f.err = l.zpopmin(ctx, sh, key)
	if f.state.CompareAndSwap(popPending, popDone) {
		close(f.done)
		return
	}
	if member, _ := f.z.Member.(string); member != "" {
		l.putBack(ctx, sh, key, member, int64(math.Round(f.z.Score*1e6)))
	}
}

func indexOf(ws []*waiter, w *waiter) int {
	for i, x := range ws {
		if x == w {
			return i
		}
	}
	return -1
}

// poller returns the receive loop for key, made if needed, with its mutex
// held.
func (l *Layer) poller(channel string, local bool) *poller {
	// Pollers are found by the channel's key part rather than its key,
	// which would have to be built for every Receive just to look it up.
	id := nonLocal(channel)
	l.mu.Lock()
	p := l.pollers[id]
	if p == nil {
		p = &poller{
			l: l, id: id, key: l.keys.channel(channel), local: local, name: channel,
			sh:      l.shardFor(nonLocal(channel)),
			inboxes: make(map[string]*inbox),
			wake:    make(chan struct{}, 1),
		}
		if l.fanIn {
			p.fan = newFanIn(l.shards)
		}
		l.pollers[id] = p
	}
	p.mu.Lock()
	l.mu.Unlock()
	return p
}

// take returns the oldest unexpired message kept for ib, or nil. p.mu is
// held.
func (p *poller) take(ib *inbox) event.Event {
	if len(ib.buf) == 0 {
		return nil
	}
	cutoff := p.l.clock.now() - p.l.expiryUs
	for len(ib.buf) > 0 {
		b := ib.buf[0]
		ib.buf[0] = buffered{}
		ib.buf = ib.buf[1:]
		if b.at > cutoff {
			return b.ev
		}
	}
	return nil
}

// tidy forgets ib when it holds nothing. p.mu is held.
func (p *poller) tidy(channel string, ib *inbox) {
	if len(ib.waiters) == 0 && len(ib.buf) == 0 && ib.sub == nil {
		delete(p.inboxes, channel)
	}
}

// keep stores ev for a process-local channel nobody is receiving from
// right now, dropping the oldest when the channel is at capacity, as
// channels_redis does. p.mu is held.
func (p *poller) keep(channel string, ev event.Event, at int64) {
	ib := p.inboxes[channel]
	if ib == nil {
		ib = &inbox{}
		p.inboxes[channel] = ib
	}
	if len(ib.buf) >= p.l.cfg.CapacityFor(channel) {
		ib.buf = ib.buf[1:]
		p.l.log.Warn("redis: process-local channel full; dropped its oldest message", "channel", channel)
	}
	ib.buf = append(ib.buf, buffered{ev: ev, at: at})
	// Once an expiry, the kept messages are swept, so that those of
	// channels nobody receives from any more go while the process is
	// busy, at a cost proportional to what was kept meanwhile.
	if now := p.l.clock.now(); now >= p.sweepAt {
		p.sweep(now)
		p.sweepAt = now + p.l.expiryUs
	}
}

// sweep drops the kept messages that have expired and forgets the inboxes
// left with neither messages nor waiters, as take would for a receiver
// that came back. A process-local channel whose consumer has ended is
// never received from again, so this is what releases the messages that
// reached it after its last Receive. It returns the score of the oldest
// message still kept, or 0. p.mu is held.
func (p *poller) sweep(now int64) (oldest int64) {
	cutoff := now - p.l.expiryUs
	for name, ib := range p.inboxes {
		i := 0
		for i < len(ib.buf) && ib.buf[i].at <= cutoff {
			i++
		}
		if i == len(ib.buf) {
			ib.buf = nil // and its backing array
		} else if i > 0 {
			clear(ib.buf[:i])
			ib.buf = ib.buf[i:]
		}
		if len(ib.buf) > 0 && (oldest == 0 || ib.buf[0].at < oldest) {
			oldest = ib.buf[0].at
		}
		p.tidy(name, ib)
	}
	return oldest
}

// wakeOrStart has p's loop look again for what was just asked of it:
// wakes it if it runs, starts it if not (and the layer is open). p.mu is
// held.
func (p *poller) wakeOrStart() {
	switch {
	case p.running:
		select {
		case p.wake <- struct{}{}:
		default: // already signalled
		}
	case p.l.start():
		p.running = true
		go p.run()
	}
}

// start counts a receive loop about to start, unless the layer is
// closing: Close waits for the loops it has counted, and a WaitGroup must
// not grow once waited on.
func (l *Layer) start() bool {
	l.closing.RLock()
	defer l.closing.RUnlock()
	if l.closed.Load() {
		return false
	}
	l.wg.Add(1)
	return true
}
