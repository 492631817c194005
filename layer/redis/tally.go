package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Counting and refreshing, amortized.
//
// channels_redis counts a channel before every add and sets its key's time
// to live after every add: four commands per send. A Layer instead keeps,
// for each channel key it sends to, what it learned the last time it
// counted. Its room is half the free places the count left; sends within
// that room are a bare ZADD, without counting. The key's time to live is
// set with the add when this process has not set it within refreshEvery;
// otherwise the add leaves the key to a refresh loop, which sets the time
// to live of every key added to since, once per key, refreshEvery later.
// So a channel sent to steadily costs about one command per send, and one
// sent to now and then two (ZADD and PEXPIRE), plus a counted send, four
// commands in one script, whenever the room is used up.
//
// What that keeps of channels_redis' rules:
//   - One process alone never overfills a channel: with c messages after
//     its count, its room of (capacity-c)/2 sends leaves at most
//     c+(capacity-c)/2. A group send by this process makes every room
//     stale, so the next send to each channel counts again.
//   - Several processes may each use their room unchecked, so a channel
//     may hold up to half its free places more for each other process
//     sending to it, before every send counts and is refused.
//     channels_redis' own check, a count and then an add, also lets a
//     channel "leak slightly over capacity".
//   - Every message lives at least Expiry: its key's time to live is set
//     after its add. A key lapses at most Expiry plus refreshEvery after
//     its last add.
//   - A bare add that re-creates a key leaves it without a time to live
//     until the refresh; a process that dies in between leaves the key
//     until it is received from. channels_redis has the same gap between
//     its ZADD and EXPIRE, one round trip wide.
//
// Config.ExactCapacity counts every send, in its script, as channels_redis
// does, but atomically.

// refreshEvery is how long a key may wait for the time to live of a bare
// add: the width of the gap above, and the send rate per key and process
// (one send per refreshEvery) above which adds cost one command.
const refreshEvery = 100 * time.Millisecond

// tallyKeep is how long a tally not sent to is kept once the map has
// grown; see tallies.pruneAt.
const tallyKeep = time.Minute

// how a send reaches Redis.
type how int

const (
	// countAdd runs the send script: count, add unless full, set the
	// time to live.
	countAdd how = iota
	// addExpire is ZADD and PEXPIRE, pipelined.
	addExpire
	// add is ZADD alone; the refresh loop sets the time to live.
	add
)

func (h how) String() string { return [...]string{"count", "add and expire", "add"}[h] }

// tally is what this process knows of one channel key it sends to.
type tally struct {
	sh        *shard
	capacity  int    // of the channel whose count set room
	room      int    // sends left before counting again
	seq       uint64 // sends planned to the key
	countSeq  uint64 // the send whose count set room
	gen       uint64 // tallies.gen when that send was planned
	refreshed int64  // when this process last set, or queued, the time to live; µs
	dirty     bool   // added to since, without a time to live set
	used      int64  // when last sent to; µs
}

// ticket is a send's plan, to be reported back after a count.
type ticket struct {
	how      how
	seq, gen uint64
}

// tallies are a Layer's tallies, and the refresh loop's work.
type tallies struct {
	mu      sync.Mutex
	byKey   map[string]*tally
	dirty   []string // keys with tally.dirty set
	running bool     // a refresh loop is running or starting
	pruneAt int      // prune tallies not sent to within tallyKeep at this size
	every   int64    // refreshEvery in µs; tests change it

	// gen counts group sends: they add to channels without their tallies
	// knowing.
	gen atomic.Uint64
}

const minPruneAt = 4096

// plan decides how a send at now to a channel of capacity, stored in key
// on sh, reaches Redis.
func (ts *tallies) plan(key string, sh *shard, now int64, capacity int, exact bool) ticket {
	if exact {
		return ticket{how: countAdd}
	}
	gen := ts.gen.Load()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.byKey[key]
	if t == nil {
		ts.pruneLocked(now)
		t = &tally{sh: sh, refreshed: now - ts.every}
		ts.byKey[key] = t
	}
	t.seq++
	t.used = now
	switch {
	// The process-local channels of one key may have capacities of
	// their own; room is only good for the capacity it was counted for.
	case t.room <= 0 || t.gen != gen || t.capacity != capacity:
		t.refreshed = now
		return ticket{how: countAdd, seq: t.seq, gen: gen}
	case now-t.refreshed >= ts.every:
		t.room--
		t.refreshed = now
		return ticket{how: addExpire}
	default:
		t.room--
		return ticket{how: add}
	}
}

// counted sets key's room from the count a send made: n messages after
// its add, or -1 when the channel was full.
func (ts *tallies) counted(key string, tk ticket, capacity int, n int64) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.byKey[key]
	if t == nil || tk.seq <= t.countSeq || tk.seq > t.seq {
		// Pruned (and perhaps made anew), or a later count came back
		// first.
		return
	}
	t.countSeq, t.gen, t.capacity, t.room = tk.seq, tk.gen, capacity, 0
	if n >= 0 {
		// Sends planned since this one may or may not be in the count;
		// taking them off the room assumes they are not.
		t.room = (capacity-int(n))/2 - int(t.seq-tk.seq)
	}
}

// pruneLocked drops tallies not sent to lately once the map has doubled
// since it was last pruned: a dropped tally costs one counted send.
func (ts *tallies) pruneLocked(now int64) {
	if len(ts.byKey) < ts.pruneAt {
		return
	}
	for key, t := range ts.byKey {
		if !t.dirty && now-t.used > tallyKeep.Microseconds() {
			delete(ts.byKey, key)
		}
	}
	ts.pruneAt = max(minPruneAt, 2*len(ts.byKey))
}

// markDirty queues key for the refresh loop, and reports whether the loop
// must be started.
func (ts *tallies) markDirty(key string, sh *shard) (start bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.byKey[key]
	if t == nil {
		// Pruned while its add was on the way; tallies that are dirty
		// are never pruned, so it is kept from now on.
		t = &tally{sh: sh}
		ts.byKey[key] = t
	}
	if !t.dirty {
		t.dirty = true
		ts.dirty = append(ts.dirty, key)
	}
	if ts.running {
		return false
	}
	ts.running = true
	return true
}

// refreshItem is one key whose time to live the loop sets.
type refreshItem struct {
	key string
	sh  *shard
}

// take returns the keys to refresh and marks them refreshed at now. When
// there are none the loop must end, and take records that it has.
func (ts *tallies) take(now int64, buf []refreshItem) []refreshItem {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	buf = buf[:0]
	for _, key := range ts.dirty {
		t := ts.byKey[key]
		t.dirty, t.refreshed = false, now
		buf = append(buf, refreshItem{key: key, sh: t.sh})
	}
	clear(ts.dirty)
	ts.dirty = ts.dirty[:0]
	if len(buf) == 0 {
		ts.running = false
	}
	return buf
}

// afterAdd queues key for a time to live after a bare add, or after an
// add whose outcome is unknown, and starts the refresh loop if none runs.
// Once the layer is closing no loop starts; the add then sets the time to
// live of every key still waiting, its own included.
func (l *Layer) afterAdd(key string, sh *shard) {
	if !l.tallies.markDirty(key, sh) {
		return
	}
	if l.start() {
		go l.refreshLoop()
		return
	}
	l.refreshAll()
}

// refreshTimeout bounds one round of refreshes, and so how long Close may
// wait for the last one.
const refreshTimeout = time.Second

// refreshLoop sets the time to live of the keys bare adds left, every
// refreshEvery, until none are left; when the layer closes it sets the
// rest. Refreshes that fail are queued again and tried with backoff; the
// failure is logged once until one succeeds.
func (l *Layer) refreshLoop() {
	defer l.wg.Done()
	every := time.Duration(l.tallies.every) * time.Microsecond
	timer := time.NewTimer(every)
	defer timer.Stop()
	var batch []refreshItem
	failing, wait := false, every
	for {
		select {
		case <-timer.C:
		case <-l.done:
			l.refreshAll()
			return
		}
		batch = l.tallies.take(l.clock.now(), batch)
		if len(batch) == 0 {
			return
		}
		err := l.refresh(batch)
		switch {
		case err != nil:
			for _, it := range batch {
				l.tallies.markDirty(it.key, it.sh)
			}
			if !failing {
				l.log.Warn("redis: could not set the time to live of channel keys; retrying", "keys", len(batch), "error", err)
			}
		case failing:
			l.log.Info("redis: setting the time to live of channel keys again", "keys", len(batch))
		}
		failing = err != nil
		// An outage is waited out with backoff, up to a second between
		// tries, rather than with a dial every refreshEvery.
		if failing {
			wait = min(2*wait, max(every, time.Second))
		} else {
			wait = every
		}
		timer.Reset(wait)
	}
}

// refreshAll sets the time to live of every key waiting for one, and of
// any queued meanwhile, once each, for when no loop will run again.
func (l *Layer) refreshAll() {
	var batch []refreshItem
	for {
		batch = l.tallies.take(l.clock.now(), batch)
		if len(batch) == 0 {
			return
		}
		if err := l.refresh(batch); err != nil {
			l.log.Warn("redis: could not set the time to live of channel keys while closing; they last until received from",
				"keys", len(batch), "error", err)
		}
	}
}

// refresh sets the time to live of batch's keys, one pipeline per shard,
// all shards at once.
func (l *Layer) refresh(batch []refreshItem) error {
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	byShard := make(map[*shard][]string, len(l.shards))
	for _, it := range batch {
		byShard[it.sh] = append(byShard[it.sh], it.key)
	}
	expire := func(sh *shard, keys []string) error {
		_, err := sh.cmd.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys {
				p.Do(ctx, "pexpire", k, l.ttlArg)
			}
			return nil
		})
		return err
	}
	if len(byShard) == 1 {
		for sh, keys := range byShard {
			return expire(sh, keys)
		}
	}
	errs := make(chan error, len(byShard))
	for sh, keys := range byShard {
		go func() { errs <- expire(sh, keys) }()
	}
	var first error
	for range byShard {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
