package redis_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/redis"
	"github.com/switchboard-bots/switchboard/session/sessiontest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// urlEnv overrides the Redis the tests use. CI starts one on the default.
const urlEnv = "SWITCHBOARD_REDIS_URL"

// client returns a client of the shared Redis, failing the test when
// nothing answers: a test that skipped silently would prove nothing.
func client(t testing.TB) *goredis.Client {
	t.Helper()
	url := redistest.URL(t)
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s=%q: %v", urlEnv, url, err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("no Redis at %s (%v): start redis-server there or set %s", url, err, urlEnv)
	}
	return c
}

// testPrefix returns a key prefix no other test uses and deletes its keys
// when the test ends, leaving the shared server as it was.
func testPrefix(t testing.TB) string {
	t.Helper()
	prefix := "sbtest.session." + strings.ToLower(rand.Text()[:10]) + "."
	c := client(t)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Unlink(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("deleting test keys: %v", err)
		}
	})
	return prefix
}

func TestConformance(t *testing.T) {
	prefix := testPrefix(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return redis.New(client(t), redis.WithPrefix(prefix))
	}, sessiontest.Features{MultiProcess: true})
}

// TestLayout: a session is a hash under the prefix with its version and
// data, and its time to live is the key's.
func TestLayout(t *testing.T) {
	c := client(t)
	prefix := testPrefix(t)
	st := redis.New(c, redis.WithPrefix(prefix))
	ctx := context.Background()
	v, err := st.Save(ctx, "conv:tg:42", []byte("hello"), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.HGetAll(ctx, prefix+"conv:tg:42").Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["d"] != "hello" || got["v"] == "" {
		t.Fatalf("hash = %v", got)
	}
	if ttl := c.PTTL(ctx, prefix+"conv:tg:42").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("PTTL = %v; want about an hour", ttl)
	}
	if _, err := st.Save(ctx, "conv:tg:42", []byte("again"), v, 0); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, prefix+"conv:tg:42").Val(); ttl != -1 {
		t.Fatalf("PTTL after a save with no time to live = %v; want -1 (persistent)", ttl)
	}
}
