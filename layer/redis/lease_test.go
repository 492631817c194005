package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/layer/redis"
)

// sharedClient returns a client of the shared Redis, closed when the test
// ends.
func sharedClient(t testing.TB) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(sharedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// checker returns a function that reports an Acquire's or Renew's
// answer, failing t on an error.
func checker(t testing.TB) func(bool, error) bool {
	return func(ok bool, err error) bool {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
}

// Acquire, renew and release, by the owner and by another: only the
// holder can extend or free the lease, and taking a lease one holds
// succeeds.
func TestLeaseOwnership(t *testing.T) {
	url := sharedURL(t)
	c := sharedClient(t)
	lease := redis.NewLease(c, testPrefix(t, url))
	ctx := t.Context()
	held := checker(t)
	const key, a, b = "bot", "owner-a", "owner-b"

	if !held(lease.Acquire(ctx, key, a, 10*time.Second)) {
		t.Fatal("a cannot take a free lease")
	}
	if got := c.Get(ctx, lease.Key(key)).Val(); got != a {
		t.Fatalf("the lease holds %q, want a's id", got)
	}
	if held(lease.Acquire(ctx, key, b, 10*time.Second)) {
		t.Fatal("b took a lease a holds")
	}
	if !held(lease.Acquire(ctx, key, a, 10*time.Second)) {
		t.Fatal("a cannot take again a lease it holds")
	}
	if held(lease.Renew(ctx, key, b, time.Minute)) {
		t.Fatal("b renewed a lease a holds")
	}
	if ttl := c.PTTL(ctx, lease.Key(key)).Val(); ttl <= 0 || ttl > 10*time.Second {
		t.Fatalf("after b's renewal the lease lives %v more; want a's 10s at most", ttl)
	}
	if !held(lease.Renew(ctx, key, a, time.Minute)) {
		t.Fatal("a cannot renew its lease")
	}
	if ttl := c.PTTL(ctx, lease.Key(key)).Val(); ttl <= 10*time.Second {
		t.Fatalf("after a's renewal to a minute the lease lives %v more", ttl)
	}

	if err := lease.Release(ctx, key, b); err != nil {
		t.Fatal(err)
	}
	if held(lease.Acquire(ctx, key, b, time.Second)) {
		t.Fatal("b's release freed a's lease")
	}
	if err := lease.Release(ctx, key, a); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, lease.Key(key)).Val(); n != 0 {
		t.Fatal("a's release left the lease in Redis")
	}
	if held(lease.Renew(ctx, key, a, time.Second)) {
		t.Fatal("a renewed a lease it released")
	}
	if !held(lease.Acquire(ctx, key, b, time.Second)) {
		t.Fatal("b cannot take a released lease")
	}
	if err := lease.Release(ctx, key, a); err != nil {
		t.Fatal("releasing a lease one does not hold is not an error:", err)
	}
	if got := c.Get(ctx, lease.Key(key)).Val(); got != b {
		t.Fatalf("the lease holds %q after a released what it did not hold, want b's id", got)
	}
}

// A holder that stops renewing loses the lease once its ttl passes, not
// before, and then cannot renew it from under the new holder.
func TestLeaseExpiry(t *testing.T) {
	url := sharedURL(t)
	lease := redis.NewLease(sharedClient(t), testPrefix(t, url))
	ctx := t.Context()
	held := checker(t)
	const ttl = 150 * time.Millisecond
	before := time.Now()
	if !held(lease.Acquire(ctx, "bot", "a", ttl)) {
		t.Fatal("a cannot take a free lease")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !held(lease.Acquire(ctx, "bot", "b", ttl)) {
		if time.Now().After(deadline) {
			t.Fatalf("b cannot take a lease that a stopped renewing %v ago with ttl %v", time.Since(before), ttl)
		}
		time.Sleep(5 * time.Millisecond) // polls the condition; the ttl decides when it holds
	}
	// Redis expires by its own millisecond clock, hence the millisecond
	// of slack.
	if took := time.Since(before); took < ttl-time.Millisecond {
		t.Fatalf("b took the lease %v after a did, before its ttl %v passed", took, ttl)
	}
	if held(lease.Renew(ctx, "bot", "a", time.Minute)) {
		t.Fatal("a renewed an expired lease that b has taken since")
	}
	if held(lease.Acquire(ctx, "bot", "a", time.Minute)) {
		t.Fatal("a took the lease b holds")
	}
}

// Whatever a lease is named by, a bot token say, appears nowhere in
// Redis: not in key names, not in values.
func TestLeaseKeyHidesName(t *testing.T) {
	url := sharedURL(t)
	c := sharedClient(t)
	prefix := testPrefix(t, url)
	lease := redis.NewLease(c, prefix)
	ctx := t.Context()
	held := checker(t)
	const secret = "123456789:AAsecret-token-part"
	if !held(lease.Acquire(ctx, secret, "owner", time.Minute)) {
		t.Fatal("cannot take a free lease")
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != lease.Key(secret) {
		t.Fatalf("keys under the prefix: %q, want only %q", keys, lease.Key(secret))
	}
	k := keys[0]
	if strings.Contains(k, "AAsecret") || strings.Contains(k, "123456789") || c.Get(ctx, k).Val() != "owner" {
		t.Fatalf("the lease %q = %q shows its name", k, c.Get(ctx, k).Val())
	}
	// The hash tag is the whole hash, so that Cluster puts each lease in
	// a slot of its own and every process computes the same one.
	if !strings.HasPrefix(k, prefix+":lease:{") || !strings.HasSuffix(k, "}") || len(k) != len(prefix)+len(":lease:{}")+64 {
		t.Fatalf("lease key %q, want %s:lease:{<sha256 hex>}", k, prefix)
	}
	if lease.Key("other") == k {
		t.Fatal("two names share a lease key")
	}
}

// Errors say what failed: an outage wraps ErrUnavailable and names the
// hashed key, never the lease's name; a ttl Redis cannot take is refused
// before anything is sent; a closed layer's lease reports ErrClosed.
func TestLeaseErrors(t *testing.T) {
	srv := startServer(t)
	c := srv.client()
	defer c.Close()
	lease := redis.NewLease(c, "sbtest.lease.")
	ctx := t.Context()
	held := checker(t)
	if !held(lease.Acquire(ctx, "bot", "a", time.Minute)) {
		t.Fatal("cannot take a free lease")
	}
	if _, err := lease.Acquire(ctx, "bot", "a", 0); !errors.Is(err, redis.ErrConfig) {
		t.Fatalf("Acquire with ttl 0: %v, want ErrConfig", err)
	}

	srv.stop()
	name := "123456789:AAsecret"
	checks := map[string]error{}
	_, checks["Acquire"] = lease.Acquire(ctx, name, "a", time.Minute)
	_, checks["Renew"] = lease.Renew(ctx, name, "a", time.Minute)
	checks["Release"] = lease.Release(ctx, name, "a")
	for op, err := range checks {
		if !errors.Is(err, redis.ErrUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrUnavailable", op, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, lease.Key(name)) || strings.Contains(msg, "AAsecret") {
			t.Errorf("%s with Redis down: %q, want the hashed key and not the name", op, msg)
		}
	}

	l, err := redis.New(redis.Config{URL: sharedURL(t), Prefix: "sbtest.closed."})
	if err != nil {
		t.Fatal(err)
	}
	ll := l.Lease()
	must(t, l.Close())
	if _, err := ll.Acquire(ctx, "bot", "a", time.Minute); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Acquire on a closed layer's lease: %v, want ErrClosed", err)
	}
}

// A sharded layer's leases: processes with the same shards agree on
// where each lease lives, so one owner excludes the others whichever
// layer they use, and the lease is in exactly one shard.
func TestLayerLeaseShards(t *testing.T) {
	a, b := startServer(t), startServer(t)
	cfg := redis.Config{Mode: redis.ModeShards, Shards: []string{a.URL, b.URL}, Prefix: "sbtest.shards."}
	one, two := newLayer(t, cfg).Lease(), newLayer(t, cfg).Lease()
	ctx := t.Context()
	held := checker(t)
	for _, key := range []string{"bot-1", "bot-2", "bot-3", "bot-4"} {
		if !held(one.Acquire(ctx, key, "p1", time.Minute)) {
			t.Fatalf("%s: p1 cannot take a free lease", key)
		}
		if held(two.Acquire(ctx, key, "p2", time.Minute)) {
			t.Fatalf("%s: p2 took p1's lease through another layer", key)
		}
		var found int64
		for _, s := range []*server{a, b} {
			c := s.client()
			found += c.Exists(ctx, one.Key(key)).Val()
			_ = c.Close()
		}
		if found != 1 {
			t.Fatalf("%s is in %d shards, want 1", key, found)
		}
	}
}

// A context that ends stops the call, and the error says so.
func TestLeaseContext(t *testing.T) {
	lease := redis.NewLease(sharedClient(t), testPrefix(t, sharedURL(t)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := lease.Acquire(ctx, "bot", "a", time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context: %v, want context.Canceled", err)
	}
}
