package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/timer"
)

var _ timer.Store = (*Store)(nil)

// DefaultPrefix is the prefix of every key unless WithPrefix says
// otherwise.
const DefaultPrefix = "switchboard."

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the prefix of the Store's keys. Default: DefaultPrefix.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// Store is a timer.Store on Redis. It does not own its client.
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

func (s *Store) keys(adapter string) []string {
	base := s.prefix + "timers:" + adapter
	return []string{base + ":due", base + ":data"}
}

// Schedule implements timer.Store: one MULTI of a ZADD and an HSET per
// timer, one round trip however many.
func (s *Store) Schedule(ctx context.Context, timers ...timer.Timer) error {
	data := make([][]byte, len(timers))
	for i, t := range timers {
		var err error
		if data[i], err = timer.Encode(t); err != nil {
			return err
		}
	}
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for i, t := range timers {
			k, id := s.keys(t.Adapter), timer.ID(t.Key, t.Name)
			p.ZAdd(ctx, k[0], goredis.Z{Score: float64(timer.Millis(t.At)), Member: id})
			p.HSet(ctx, k[1], id, data[i])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("timer/redis: schedule %d timers: %w", len(timers), err)
	}
	return nil
}

// Cancel implements timer.Store: one MULTI of ZREM and HDEL.
func (s *Store) Cancel(ctx context.Context, adapter, key, name string) (bool, error) {
	k, id := s.keys(adapter), timer.ID(key, name)
	var removed *goredis.IntCmd
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		removed = p.ZRem(ctx, k[0], id)
		p.HDel(ctx, k[1], id)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("timer/redis: cancel %q: %w", name, err)
	}
	return removed.Val() > 0, nil
}

// claim takes up to ARGV[2] members due at ARGV[1], re-scores each to
// ARGV[3] (the lease's end) and returns their ids and encodings, in turn. A member
// without an encoding (a half-written timer) is dropped.
var claim = goredis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[2], id)
  if data then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    out[#out+1] = id
    out[#out+1] = data
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// ack removes each ARGV[i] whose score is still ARGV[i+1].
var ack = goredis.NewScript(`
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i+1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    n = n + 1
  end
end
return n
`)

// Claim implements timer.Store: one script call. The claim's token is the
// lease's end in Unix milliseconds, the score it leaves on the timer.
func (s *Store) Claim(ctx context.Context, adapter string, now time.Time, max int, lease time.Duration) ([]timer.Claim, error) {
	until := now.Add(lease).UnixMilli()
	res, err := claim.Run(ctx, s.c, s.keys(adapter), now.UnixMilli(), max, until).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("timer/redis: claim: %w", err)
	}
	out := make([]timer.Claim, 0, len(res)/2)
	var errs []error
	for i := 0; i+1 < len(res); i += 2 {
		t, err := timer.Decode([]byte(res[i+1]))
		if err != nil {
			// It would fail again at every lease's end: drop it, and say so.
			errs = append(errs, fmt.Errorf("timer/redis: dropped %q: %w", res[i], err))
			s.drop(ctx, adapter, res[i])
			continue
		}
		out = append(out, timer.Claim{Timer: t, Token: until})
	}
	return out, errors.Join(errs...)
}

// Ack implements timer.Store: one script call per adapter among claims.
func (s *Store) Ack(ctx context.Context, claims ...timer.Claim) error {
	byAdapter := map[string][]any{}
	for _, c := range claims {
		byAdapter[c.Adapter] = append(byAdapter[c.Adapter], timer.ID(c.Key, c.Name), strconv.FormatInt(c.Token, 10))
	}
	for adapter, args := range byAdapter {
		if err := ack.Run(ctx, s.c, s.keys(adapter), args...).Err(); err != nil {
			return fmt.Errorf("timer/redis: ack %d timers: %w", len(args)/2, err)
		}
	}
	return nil
}

func (s *Store) drop(ctx context.Context, adapter, id string) {
	k := s.keys(adapter)
	_, _ = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZRem(ctx, k[0], id)
		p.HDel(ctx, k[1], id)
		return nil
	})
}
