package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/session"
)

var _ session.Store = (*Store)(nil)

// DefaultPrefix is the prefix of every key unless WithPrefix says
// otherwise.
const DefaultPrefix = "switchboard.session."

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the prefix of the Store's keys, so that several
// applications share one Redis. Default: DefaultPrefix.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// Store is a session.Store on Redis. It does not own its client: close
// the client when done with the Store.
type Store struct {
	c      goredis.UniversalClient
	prefix string
}

// New returns a Store on the Redis behind c.
func New(c goredis.UniversalClient, opts ...Option) *Store {
	s := &Store{c: c, prefix: DefaultPrefix}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Prefix returns the prefix of the Store's keys.
func (s *Store) Prefix() string { return s.prefix }

// Load implements session.Store: one HMGET.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	vals, err := s.c.HMGet(ctx, s.prefix+key, "v", "d").Result()
	if err != nil {
		return session.Record{}, fmt.Errorf("session/redis: load %q: %w", key, err)
	}
	vs, _ := vals[0].(string)
	if vs == "" {
		return session.Record{}, nil
	}
	v, err := strconv.ParseUint(vs, 10, 64)
	if err != nil {
		return session.Record{}, fmt.Errorf("session/redis: load %q: version %q: %w", key, vs, err)
	}
	d, _ := vals[1].(string)
	return session.Record{Data: []byte(d), Version: v}, nil
}

// save compares and sets in one step. A new session's version comes from
// the server's clock, so that versions of a key never repeat across
// deletes; an existing one's goes up by one.
var save = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v') or '0'
if cur ~= ARGV[1] then return -1 end
local nv
if cur == '0' then
  local t = redis.call('TIME')
  nv = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  nv = tonumber(cur) + 1
end
nv = string.format('%.0f', nv)
redis.call('HSET', KEYS[1], 'v', nv, 'd', ARGV[2])
if ARGV[3] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('PERSIST', KEYS[1])
end
return tonumber(nv)
`)

// Save implements session.Store: one EVALSHA (an EVAL too the first time a
// Redis server sees the script).
func (s *Store) Save(ctx context.Context, key string, data []byte, version uint64, ttl time.Duration) (uint64, error) {
	ms := int64(0)
	if ttl > 0 {
		ms = max(ttl.Milliseconds(), 1)
	}
	n, err := save.Run(ctx, s.c, []string{s.prefix + key}, strconv.FormatUint(version, 10), data, ms).Int64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("session/redis: save %q: %w", key, err)
	case n < 0:
		return 0, fmt.Errorf("session/redis: save %q at version %d: %w", key, version, session.ErrConflict)
	}
	return uint64(n), nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.prefix+key).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("session/redis: delete %q: %w", key, err)
	}
	return nil
}
