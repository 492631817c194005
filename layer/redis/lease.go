package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Lease is an expiring lock in Redis, held by one owner at a time: the
// processes that run one Telegram bot share one so that only one of them
// polls, and it has the method set of the Telegram adapter's Lease, so a
// *Lease can be passed to telegram.WithLease as it is. All methods are
// safe for concurrent use.
//
// A lease named key is the string prefix+":lease:{"+h+"}", holding the
// owner, where h is the hex SHA-256 of key: whatever the caller names a
// lease by, a bot token included, never appears in Redis or in errors.
// The braces make h a hash tag, and the colon keeps the key apart from
// every channel and group key, since names cannot contain one. Layer.Flush
// deletes leases with everything else under the prefix.
//
// The lease is as safe as Redis' own failover: a replica promoted before
// it received the latest SET may grant the lease a second time. For the
// Telegram adapter that costs a few 409 answers until the older poller's
// renewal fails, never a lost update.
type Lease struct {
	clients []goredis.UniversalClient // one per shard; a lease lives on the one its key hashes to
	prefix  string
	closed  func() bool                  // reports whether the layer that made the clients was closed
	place   func(name string, n int) int // the layer's Config.Hash; nil with one client
}

// NewLease returns a lease on c, which the caller keeps and closes, with
// keys under prefix. Processes that share a lease must use the same
// server and prefix.
func NewLease(c goredis.UniversalClient, prefix string) *Lease {
	return &Lease{clients: []goredis.UniversalClient{c}, prefix: prefix, closed: func() bool { return false }}
}

// Lease returns a lease on the layer's servers and prefix, on the shard
// each lease's key hashes to. It fails with ErrClosed once the layer is
// closed.
func (l *Layer) Lease() *Lease {
	cs := make([]goredis.UniversalClient, len(l.shards))
	for i := range l.shards {
		cs[i] = l.shards[i].cmd
	}
	return &Lease{clients: cs, prefix: l.cfg.Prefix, closed: l.closed.Load, place: l.place}
}

// Key returns the Redis key that holds the lease named key.
func (e *Lease) Key(key string) string {
	sum := sha256.Sum256([]byte(key))
	return e.prefix + ":lease:{" + hex.EncodeToString(sum[:]) + "}"
}

// acquireScript is SET NX PX, and when that fails because owner already
// holds the lease, a renewal: taking a lease one holds succeeds, as it
// does for the adapter's in-memory lease.
//
// KEYS[1] the lease. ARGV[1] owner, ARGV[2] time to live in ms.
var acquireScript = goredis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// renewScript extends the lease if owner holds it. Comparing and
// extending in one script means a lease that expired and was taken by
// another owner between the two steps cannot be extended for the wrong
// owner.
//
// KEYS[1] the lease. ARGV[1] owner, ARGV[2] time to live in ms.
var renewScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript deletes the lease if owner holds it, for the same reason
// in one script.
//
// KEYS[1] the lease. ARGV[1] owner.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Acquire takes the lease named key for owner for ttl if it is free,
// expired or already owner's, and reports whether owner holds it. Errors
// that come from not reaching Redis wrap ErrUnavailable.
func (e *Lease) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	return e.run(ctx, "lease acquire", acquireScript, key, owner, ttl, true)
}

// Renew extends the lease named key to ttl from now if owner holds it,
// and reports whether it did: false means the lease expired, and perhaps
// another owner took it.
func (e *Lease) Renew(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	return e.run(ctx, "lease renew", renewScript, key, owner, ttl, true)
}

// Release frees the lease named key if owner holds it, and does nothing
// otherwise: an owner that lost its lease cannot free another's.
func (e *Lease) Release(ctx context.Context, key, owner string) error {
	_, err := e.run(ctx, "lease release", releaseScript, key, owner, 0, false)
	return err
}

// run calls script on the lease's key with owner and, if timed, ttl.
func (e *Lease) run(ctx context.Context, op string, script *goredis.Script, key, owner string, ttl time.Duration, timed bool) (bool, error) {
	rkey := e.Key(key)
	if e.closed() {
		return false, ErrClosed
	}
	args := []any{owner}
	if timed {
		if ttl <= 0 {
			return false, refuse(op, rkey, fmt.Errorf("%w: ttl %v is not positive", ErrConfig, ttl))
		}
		// Redis counts in whole milliseconds; rounding up keeps a
		// sub-millisecond ttl from meaning "expire now".
		args = append(args, strconv.FormatInt(int64((ttl+time.Millisecond-1)/time.Millisecond), 10))
	}
	c := e.clients[0]
	if len(e.clients) > 1 {
		c = e.clients[e.place(rkey, len(e.clients))]
	}
	n, err := script.Run(ctx, c, []string{rkey}, args...).Int()
	if err != nil {
		return false, fail(op, rkey, err)
	}
	return n == 1, nil
}
