package redis_test

import (
	"context"
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

// client returns a client of the Redis the tests share, closed when the
// test ends.
func client(t testing.TB) *goredis.Client {
	t.Helper()
	return redistest.Client(t, redistest.URL(t))
}

// testPrefix returns a key prefix of the test's own, whose keys are
// deleted when it ends.
func testPrefix(t testing.TB) string {
	t.Helper()
	return redistest.Prefix(t, redistest.URL(t))
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
