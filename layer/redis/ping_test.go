package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer/redis"
)

// Ping answers nil while Redis answers, and an error wrapping
// ErrUnavailable while it does not; it asks again each time, so the same
// layer reports the outage and the recovery.
func TestPing(t *testing.T) {
	url := sharedURL(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := newLayer(t, redis.Config{URL: url, Prefix: testPrefix(t, url)}).Ping(ctx); err != nil {
		t.Fatalf("Ping of the shared Redis: %v", err)
	}

	srv := startServer(t)
	l := newLayer(t, redis.Config{URL: srv.URL})
	if err := l.Ping(ctx); err != nil {
		t.Fatalf("Ping before the outage: %v", err)
	}
	srv.stop()
	if err := l.Ping(ctx); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Ping with the server down: %v, want ErrUnavailable", err)
	}
	srv.start()
	if err := l.Ping(ctx); err != nil {
		t.Fatalf("Ping once the server is back: %v", err)
	}
}

// In shards mode every shard is pinged: one that does not answer fails
// Ping, and the error names it and only it.
func TestPingEveryShard(t *testing.T) {
	good := startServer(t)
	const down = "127.0.0.1:1" // nothing listens on port 1
	l := newLayer(t, redis.Config{Mode: redis.ModeShards, Shards: []string{good.URL, "redis://" + down + "/0"}})
	err := l.Ping(t.Context())
	if !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Ping with a shard down: %v, want ErrUnavailable", err)
	}
	goodAddr := strings.TrimSuffix(strings.TrimPrefix(good.URL, "redis://"), "/0")
	if msg := err.Error(); !strings.Contains(msg, down) || strings.Contains(msg, goodAddr) {
		t.Fatalf("Ping error %q: want it to name %s and not %s", msg, down, goodAddr)
	}
}

// A closed layer cannot serve: Ping says so with both ErrClosed and
// ErrUnavailable, without touching the network.
func TestPingClosed(t *testing.T) {
	l := newLayer(t, redis.Config{URL: sharedURL(t)})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	err := l.Ping(t.Context())
	if !errors.Is(err, redis.ErrClosed) || !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Ping of a closed layer: %v, want ErrClosed and ErrUnavailable", err)
	}
}
