package memory

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/switchboard-bots/switchboard/session"
)

var _ session.ValueStore = (*Store)(nil)

const numShards = 32

// DefaultResolution is how often, by default, the store reads its clock:
// how finely it measures times to live.
const DefaultResolution = time.Second

// DefaultSweepInterval is how often, at most, the store removes every
// expired value.
const DefaultSweepInterval = time.Minute

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that expiry is measured with, so that tests move
// time instead of waiting for it. The store reads it once per resolution,
// not per call (see Store); after moving an injected clock, call Sweep for
// the store to see the move at once. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithResolution sets how often the store reads its clock while it holds
// values with a time to live. A value then lives at least its time to live
// and at most two resolutions more. Values of 0 or less keep the default.
// Default: DefaultResolution.
func WithResolution(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.res = d
		}
	}
}

// Store is an in-memory session.Store. It is a session.ValueStore: a
// consumer's plain state is kept unencoded.
//
// Loads and saves do not read the clock, which costs as much as the rest
// of a call on some machines: the store keeps its own coarse time, read
// from the clock once per resolution by a timer that starts with the
// first value saved with a time to live (a runtime timer, not a
// goroutine, and one that ends with the Store: there is nothing to
// close). So a value lives at least its time to live and at most two
// resolutions (2 s by default) more, unless the timer itself is held up
// by more than a resolution. Expired values are invisible from then on,
// and freed by the timer every sweep interval.
type Store struct {
	now   func() time.Time
	res   time.Duration
	epoch time.Time    // the clock when the store was made
	clock atomic.Int64 // the store's time: since epoch, as of the last tick
	start sync.Once    // starts the ticks
	seed  maphash.Seed

	tickMu    sync.Mutex // serializes ticks
	nextSweep int64      // store time of the next sweep; under tickMu

	shards [numShards]shard
}

type shard struct {
	mu  sync.Mutex
	m   map[string]*entry // a key's entry is replaced in place: a save hashes the key once
	seq uint64            // versions: one sequence for the shard's keys, so none repeats
}

type entry struct {
	data    []byte
	value   any                       // kept by SaveValue; data is then nil until a Load encodes it
	encode  func(any) ([]byte, error) // how value becomes data
	lent    bool                      // value was handed out: SaveValue does not give it back
	version uint64
	expires int64 // store time from which the entry is gone; 0: never
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now, res: DefaultResolution, seed: maphash.MakeSeed()}
	for _, o := range opts {
		o(s)
	}
	s.epoch = s.now()
	s.nextSweep = int64(DefaultSweepInterval)
	for i := range s.shards {
		s.shards[i].m = make(map[string]*entry)
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)%numShards]
}

// Load implements session.Store. The Record's Data is the store's own
// copy: it is never modified, since a Save stores a new slice. A value
// kept by SaveValue is encoded by the first Load that asks for it.
func (s *Store) Load(_ context.Context, key string) (session.Record, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	p := s.live(sh, key)
	if p == nil {
		sh.mu.Unlock()
		return session.Record{}, nil
	}
	e := *p
	if e.data == nil && e.value != nil {
		p.lent = true // encoded outside the lock
	}
	sh.mu.Unlock()
	if e.data == nil && e.value != nil {
		data, err := e.encode(e.value)
		if err != nil {
			return session.Record{}, err
		}
		e.data = data
		sh.mu.Lock()
		if p.version == e.version {
			p.data = data // later Loads share this encoding
		}
		sh.mu.Unlock()
	}
	return session.Record{Data: e.data, Version: e.version}, nil
}

// LoadValue implements session.ValueStore.
func (s *Store) LoadValue(_ context.Context, key string, have uint64) (session.Record, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := s.live(sh, key)
	switch {
	case p == nil:
		return session.Record{}, nil
	case p.version == have:
		return session.Record{Version: have}, nil
	case p.value != nil:
		p.lent = true
		return session.Record{Value: p.value, Version: p.version}, nil
	}
	return session.Record{Data: p.data, Version: p.version}, nil
}

// live returns the live entry under key in sh, whose lock the caller
// holds, or nil.
func (s *Store) live(sh *shard, key string) *entry {
	if p := sh.m[key]; p != nil && !s.expired(p) {
		return p
	}
	return nil
}

// Save implements session.Store. It keeps data as it is.
func (s *Store) Save(_ context.Context, key string, data []byte, version uint64, ttl time.Duration) (uint64, error) {
	v, _, err := s.save(key, entry{data: data}, version, ttl)
	return v, err
}

// SaveValue implements session.ValueStore.
func (s *Store) SaveValue(_ context.Context, key string, v any, encode func(any) ([]byte, error), version uint64, ttl time.Duration) (uint64, any, error) {
	return s.save(key, entry{value: v, encode: encode}, version, ttl)
}

// save stores e under key, and returns the value it replaced when it was
// never lent.
func (s *Store) save(key string, e entry, version uint64, ttl time.Duration) (uint64, any, error) {
	if ttl > 0 {
		s.start.Do(s.startTicks)
		e.expires = s.expiry(ttl)
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[key]
	var cur uint64
	if p != nil && !s.expired(p) {
		cur = p.version
	}
	if cur != version {
		return 0, nil, session.ErrConflict
	}
	sh.seq++
	e.version = sh.seq
	var spare any
	if p == nil {
		p = new(entry)
		sh.m[key] = p
	} else if !p.lent {
		spare = p.value
	}
	*p = e
	return e.version, spare, nil
}

// expiry returns the store time at which a value saved now with ttl is
// gone. The store's time may lag the clock by up to a resolution, so a
// resolution is added: a value never goes before its time to live.
func (s *Store) expiry(ttl time.Duration) int64 {
	now := s.clock.Load()
	if int64(ttl) > math.MaxInt64-now-int64(s.res) {
		return math.MaxInt64
	}
	return now + int64(ttl) + int64(s.res)
}

func (s *Store) expired(e *entry) bool {
	return e.expires != 0 && s.clock.Load() >= e.expires
}

// Delete implements session.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	sh := s.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
	return nil
}

// Len returns the number of values stored, expired ones not yet swept
// included.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// Sweep reads the clock and removes every expired value now, rather than
// at the next tick and sweep interval.
func (s *Store) Sweep() { s.tick(true) }

// tick moves the store's time to the clock's and, when sweep is set or the
// sweep interval has passed, removes the expired values.
func (s *Store) tick(sweep bool) {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	now := int64(s.now().Sub(s.epoch))
	if now > s.clock.Load() { // an injected clock may go back; the store's time does not
		s.clock.Store(now)
	}
	now = s.clock.Load()
	if !sweep && now < s.nextSweep {
		return
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.expires != 0 && now >= e.expires {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
	s.nextSweep = now + int64(DefaultSweepInterval)
}

// startTicks reads the clock, and starts the timer that reads it again
// every resolution.
func (s *Store) startTicks() {
	s.tick(false)
	t := &ticker{store: weak.Make(s), every: s.res}
	t.mu.Lock()
	t.timer = time.AfterFunc(s.res, t.fire)
	t.mu.Unlock()
}

// ticker ticks a Store every resolution. It holds the Store weakly, so
// that a Store nobody uses any more is collected, and its ticks end with
// it.
type ticker struct {
	store weak.Pointer[Store]
	every time.Duration
	mu    sync.Mutex
	timer *time.Timer
}

func (t *ticker) fire() {
	s := t.store.Value()
	if s == nil {
		return
	}
	s.tick(false)
	t.mu.Lock()
	t.timer.Reset(t.every)
	t.mu.Unlock()
}
