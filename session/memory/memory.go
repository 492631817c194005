package memory

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/session"
)

var _ session.ValueStore = (*Store)(nil)

const numShards = 32

// DefaultSweepInterval is how often, at most, a Save also removes every
// expired value of its shard.
const DefaultSweepInterval = time.Minute

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that expiry is measured with, so that tests move
// time instead of waiting for it. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// Store is an in-memory session.Store. Expired values are invisible at
// once and freed by the next Save of their shard after the sweep interval,
// so memory follows the live sessions without a goroutine of its own. It
// is a session.ValueStore: a consumer's plain state is kept unencoded.
// The clock is read only for values with a time to live.
type Store struct {
	now    func() time.Time
	seed   maphash.Seed
	seq    atomic.Uint64 // versions: one sequence for every key, so none repeats
	shards [numShards]shard
}

type shard struct {
	mu        sync.Mutex
	m         map[string]entry
	expiring  int // entries with an expiry: with none, no clock is read
	nextSweep time.Time
}

type entry struct {
	data    []byte
	value   any                       // kept by SaveValue; data is then nil until a Load encodes it
	encode  func(any) ([]byte, error) // how value becomes data
	version uint64
	expires time.Time // zero: never
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now, seed: maphash.MakeSeed()}
	for _, o := range opts {
		o(s)
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]entry)
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
	e, ok := s.get(sh, key)
	if !ok {
		return session.Record{}, nil
	}
	if e.data == nil && e.value != nil {
		data, err := e.encode(e.value)
		if err != nil {
			return session.Record{}, err
		}
		e.data = data
		sh.mu.Lock()
		if cur, ok := sh.m[key]; ok && cur.version == e.version {
			sh.m[key] = e // later Loads share this encoding
		}
		sh.mu.Unlock()
	}
	return session.Record{Data: e.data, Version: e.version}, nil
}

// LoadValue implements session.ValueStore.
func (s *Store) LoadValue(_ context.Context, key string) (session.Record, error) {
	e, ok := s.get(s.shard(key), key)
	if !ok {
		return session.Record{}, nil
	}
	if e.value != nil {
		return session.Record{Value: e.value, Version: e.version}, nil
	}
	return session.Record{Data: e.data, Version: e.version}, nil
}

// get returns the live entry under key in sh.
func (s *Store) get(sh *shard, key string) (entry, bool) {
	sh.mu.Lock()
	e, ok := sh.m[key]
	sh.mu.Unlock()
	return e, ok && !s.expired(e)
}

// Save implements session.Store. It keeps data as it is.
func (s *Store) Save(_ context.Context, key string, data []byte, version uint64, ttl time.Duration) (uint64, error) {
	return s.save(key, entry{data: data}, version, ttl)
}

// SaveValue implements session.ValueStore.
func (s *Store) SaveValue(_ context.Context, key string, v any, encode func(any) ([]byte, error), version uint64, ttl time.Duration) (uint64, error) {
	return s.save(key, entry{value: v, encode: encode}, version, ttl)
}

// save stores e under key. The clock is read only when an expiry is at
// stake: e's, the stored value's, or a sweep of a shard holding any.
func (s *Store) save(key string, e entry, version uint64, ttl time.Duration) (uint64, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var now time.Time
	if ttl > 0 || sh.expiring > 0 {
		now = s.now()
	}
	var cur uint64
	old, ok := sh.m[key]
	if ok && (old.expires.IsZero() || now.Before(old.expires)) {
		cur = old.version
	}
	if cur != version {
		return 0, session.ErrConflict
	}
	if ok && !old.expires.IsZero() {
		sh.expiring--
	}
	e.version = s.seq.Add(1)
	if ttl > 0 {
		e.expires = now.Add(ttl)
		sh.expiring++
	}
	sh.m[key] = e
	if sh.expiring > 0 && !now.Before(sh.nextSweep) {
		sh.sweepLocked(now)
	}
	return e.version, nil
}

// Delete implements session.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	sh := s.shard(key)
	sh.mu.Lock()
	if e, ok := sh.m[key]; ok && !e.expires.IsZero() {
		sh.expiring--
	}
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

func (sh *shard) sweepLocked(now time.Time) {
	for k, e := range sh.m {
		if e.expired(now) {
			delete(sh.m, k)
			sh.expiring--
		}
	}
	sh.nextSweep = now.Add(DefaultSweepInterval)
}

// expired reports whether e has expired, reading the clock only when e
// has an expiry.
func (s *Store) expired(e entry) bool {
	return !e.expires.IsZero() && e.expired(s.now())
}

func (e entry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}
