package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Reading a key on every shard.
//
// channels_redis does not keep all of a key's messages on the shard its
// name hashes to: a send to a plain channel goes to the next shard of a
// round robin, and a send to a process-local channel to the shard of the
// channel's full name, while the owner reads the shard of the part up to
// the "!". With Config.Hash crc32 and more than one shard, a receive loop
// therefore pops its key on every shard at once, so that whatever a
// Django Channels process sent reaches this one. Sends from this process
// go to the shard of the key's name, where channels_redis' own group
// sends put them, so that messages between Switchboard processes keep
// their order.

// fanIn is a poller's pops in flight, one at most per shard. Only the
// poller's loop touches it.
type fanIn struct {
	shards   []*shard
	results  chan popped // buffered for every shard: a pop never blocks on it
	busy     []bool      // a pop is in flight on shards[i]
	retryAt  []time.Time // a failing shard is popped again from then
	backoff  []time.Duration
	inflight int
	failing  int
}

// popped is one pop's outcome.
type popped struct {
	i      int // the shard
	member string
	at     int64
	err    error
}

func newFanIn(shards []shard) *fanIn {
	f := &fanIn{
		results: make(chan popped, len(shards)),
		busy:    make([]bool, len(shards)),
		retryAt: make([]time.Time, len(shards)),
		backoff: make([]time.Duration, len(shards)),
	}
	for i := range shards {
		f.shards = append(f.shards, &shards[i])
	}
	return f
}

// runFanIn is run for a poller that reads every shard.
func (p *poller) runFanIn() {
	for p.stillWanted() {
		if r, ok := p.fan.next(p); ok {
			p.fan.land(p, r)
		}
	}
}

// next starts a pop on every shard that has none in flight and is not
// backing off, and returns the first outcome, or false when none came
// before a failing shard is due again or the layer closed.
func (f *fanIn) next(p *poller) (popped, bool) {
	now := time.Now()
	var due time.Time
	for i, sh := range f.shards {
		switch {
		case f.busy[i]:
		case now.Before(f.retryAt[i]):
			if due.IsZero() || f.retryAt[i].Before(due) {
				due = f.retryAt[i]
			}
		default:
			f.busy[i] = true
			f.inflight++
			go func() {
				// As in run: not cut short by a context.
				member, at, err := p.pop(context.Background(), sh)
				f.results <- popped{i: i, member: member, at: at, err: err}
			}()
		}
	}
	var retry <-chan time.Time
	if !due.IsZero() {
		t := time.NewTimer(time.Until(due))
		defer t.Stop()
		retry = t.C
	}
	select {
	case r := <-f.results:
		return r, true
	case <-retry:
	case <-p.l.done:
	}
	return popped{}, false
}

// settle waits for one pop in flight while nobody waits for the poller,
// and lands it; a Receive that arrives meanwhile ends the wait, unless
// the layer is closing, when every pop is waited for.
func (f *fanIn) settle(p *poller) {
	wake := p.wake
	if p.l.closed.Load() {
		wake = nil
	}
	select {
	case r := <-f.results:
		f.land(p, r)
	case <-wake:
	}
}

// land accounts for a pop's outcome and dispatches its message.
func (f *fanIn) land(p *poller, r popped) {
	f.busy[r.i] = false
	f.inflight--
	sh := f.shards[r.i]
	if r.err != nil && !errors.Is(r.err, goredis.Nil) {
		if f.backoff[r.i] == 0 {
			f.failing++
		}
		f.backoff[r.i] = min(max(2*f.backoff[r.i], minBackoff), maxBackoff)
		f.retryAt[r.i] = time.Now().Add(f.backoff[r.i])
		p.failed(r.err, f.backoff[r.i])
		return
	}
	if f.backoff[r.i] != 0 {
		f.backoff[r.i], f.retryAt[r.i] = 0, time.Time{}
		if f.failing--; f.failing == 0 {
			p.mu.Lock()
			p.lastErr = nil
			p.mu.Unlock()
			p.l.log.Info("redis: receiving again", "key", p.key)
		}
	}
	if r.err == nil {
		p.dispatch(context.Background(), r.member, r.at, sh)
	}
}
