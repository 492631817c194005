package redis_test

import (
	"context"
	"errors"
	"fmt"
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

// TestRoundTrips: a load is one round trip, a save one once the server
// has the script (two the first time: the script's hash, then the
// script), a conflicting save one, a delete one. A consumer's event that
// changes its state is a load and a save, one that reads it a load.
func TestRoundTrips(t *testing.T) {
	c := client(t)
	rt := &redistest.RoundTrips{}
	c.AddHook(rt)
	st := redis.New(c, redis.WithPrefix(testPrefix(t)))
	ctx := t.Context()
	v, err := st.Save(ctx, "warm", nil, 0, time.Minute) // the server may not have the script yet
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, "warm", nil, v, time.Minute); err != nil {
		t.Fatal(err)
	}
	cost := func(what string, want int64, op func() error) {
		t.Helper()
		before := rt.Trips.Load()
		if err := op(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := rt.Trips.Load() - before; n != want {
			t.Fatalf("%s cost %d round trips; want %d", what, n, want)
		}
	}
	cost("a save", 1, func() (err error) { v, err = st.Save(ctx, "k", []byte("x"), 0, time.Minute); return err })
	cost("a load", 1, func() error { _, err := st.Load(ctx, "k"); return err })
	cost("a conflicting save", 1, func() error {
		if _, err := st.Save(ctx, "k", []byte("y"), v+1, time.Minute); !errors.Is(err, session.ErrConflict) {
			return fmt.Errorf("err = %v; want ErrConflict", err)
		}
		return nil
	})
	cost("a load of a missing key", 1, func() error { _, err := st.Load(ctx, "missing"); return err })
	cost("a delete", 1, func() error { return st.Delete(ctx, "k") })
}
