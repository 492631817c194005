package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/ratelimit"
)

// DefaultPrefix is the key prefix New uses for an empty one, the Redis
// layer's own.
const DefaultPrefix = "asgi"

// Limiter is a ratelimit.Limiter kept in Redis.
type Limiter struct {
	c      goredis.UniversalClient
	prefix string
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// ErrBadPrefix is returned by New for a prefix holding a brace, which
// would take the hash tag from the keys on Redis Cluster.
var ErrBadPrefix = errors.New("ratelimit/redis: the prefix must not hold { or }")

// New returns a Limiter on c, its keys under prefix (DefaultPrefix when
// empty). The caller keeps c and closes it.
func New(c goredis.UniversalClient, prefix string) (*Limiter, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("%w: %q", ErrBadPrefix, prefix)
	}
	return &Limiter{c: c, prefix: prefix}, nil
}

// Key returns the Redis key holding the state of the limit named key; its
// pause is the same key with ":pause" after it.
func (l *Limiter) Key(key string) string {
	if !strings.Contains(key, "{") {
		key = "{" + key + "}"
	}
	return l.prefix + ":limit:" + key
}

// reserveScript takes the earliest slot every limit allows.
//
// KEYS: per limit, its state then its pause. ARGV: per limit, its spacing
// then its tolerance (the room its burst gives), in microseconds; a
// spacing of zero is a lifted limit, of which only the pause counts.
// Returns the wait in microseconds.
var reserveScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = now
local n = #KEYS / 2
local tats = {}
for i = 1, n do
  if tonumber(ARGV[2*i-1]) > 0 then
    local tat = tonumber(redis.call('GET', KEYS[2*i-1]) or now)
    if tat < now then tat = now end
    tats[i] = tat
    local e = tat - tonumber(ARGV[2*i])
    if e > at then at = e end
  end
  local p = redis.call('PTTL', KEYS[2*i])
  if p > 0 and now + p * 1000 > at then at = now + p * 1000 end
end
for i = 1, n do
  local tat = tats[i]
  if tat then
    if at > tat then tat = at end
    tat = tat + tonumber(ARGV[2*i-1])
    redis.call('SET', KEYS[2*i-1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
  end
end
return at - now
`)

// settleScript moves each limit's next slot to a spacing after now, if
// that is later.
//
// KEYS: the limits' states. ARGV: their spacings, in microseconds.
var settleScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #KEYS do
  local every = tonumber(ARGV[i])
  if every > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or 0)
    if tat < now + every then
      tat = now + every
      redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', math.ceil(every / 1000) + 1)
    end
  end
end
return 0
`)

// pauseScript sets a pause unless a longer one is in place.
//
// KEYS[1] the pause. ARGV[1] its length in milliseconds.
var pauseScript = goredis.NewScript(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
`)

// Reserve implements ratelimit.Limiter: one script, one round trip.
func (l *Limiter) Reserve(ctx context.Context, limits ...ratelimit.Limit) (time.Duration, error) {
	if err := ratelimit.Check(limits); err != nil || len(limits) == 0 {
		return 0, err
	}
	keys := make([]string, 0, 2*len(limits))
	args := make([]any, 0, 2*len(limits))
	for _, lim := range limits {
		k := l.Key(lim.Key)
		keys = append(keys, k, k+":pause")
		args = append(args, micros(lim.Every), micros(lim.Tolerance()))
	}
	us, err := reserveScript.Run(ctx, l.c, keys, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit/redis: reserving %s: %w", limits[0].Key, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Settle implements ratelimit.Limiter: one script, one round trip.
func (l *Limiter) Settle(ctx context.Context, limits ...ratelimit.Limit) error {
	if err := ratelimit.Check(limits); err != nil || len(limits) == 0 {
		return err
	}
	keys := make([]string, 0, len(limits))
	args := make([]any, 0, len(limits))
	for _, lim := range limits {
		keys = append(keys, l.Key(lim.Key))
		args = append(args, micros(lim.Every))
	}
	if err := settleScript.Run(ctx, l.c, keys, args...).Err(); err != nil {
		return fmt.Errorf("ratelimit/redis: settling %s: %w", limits[0].Key, err)
	}
	return nil
}

// Pause implements ratelimit.Limiter.
func (l *Limiter) Pause(ctx context.Context, key string, d time.Duration) error {
	if key == "" {
		return fmt.Errorf("%w: pause of no key", ratelimit.ErrBadLimit)
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms <= 0 {
		return nil
	}
	if err := pauseScript.Run(ctx, l.c, []string{l.Key(key) + ":pause"}, strconv.FormatInt(int64(ms), 10)).Err(); err != nil {
		return fmt.Errorf("ratelimit/redis: pausing %s: %w", key, err)
	}
	return nil
}

// micros rounds d up to whole microseconds, so that a limit is never
// kept a hair faster than asked.
func micros(d time.Duration) int64 { return int64((d + time.Microsecond - 1) / time.Microsecond) }
