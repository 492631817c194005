package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/ratelimit"
	"github.com/switchboard-bots/switchboard/ratelimit/ratelimittest"
	"github.com/switchboard-bots/switchboard/ratelimit/redis"
)

// Two Limiters on clients of their own, as two processes have, share one
// prefix of the test's own.
func TestConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) (ratelimit.Limiter, ratelimit.Limiter) {
		url := redistest.URL(t)
		prefix := redistest.Prefix(t, url)
		a, err := redis.New(redistest.Client(t, url), prefix)
		if err != nil {
			t.Fatal(err)
		}
		b, err := redis.New(redistest.Client(t, url), prefix)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}

// A limit's state lives only while it matters: its key expires once the
// limit is idle again, and a pause's with the pause.
func TestKeysExpire(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	c := redistest.Client(t, url)
	l, err := redis.New(c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim := ratelimit.PerSecond("bot:{1}:chat:5", 1)
	for range 3 {
		if _, err := l.Reserve(ctx, lim); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Pause(ctx, lim.Key, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	// Three slots taken: the state is needed for three seconds.
	if ttl := c.PTTL(ctx, l.Key(lim.Key)).Val(); ttl <= 2*time.Second || ttl > 3*time.Second+10*time.Millisecond {
		t.Errorf("state's time to live %v, want about 3s", ttl)
	}
	if ttl := c.PTTL(ctx, l.Key(lim.Key)+":pause").Val(); ttl <= 3*time.Second || ttl > 4*time.Second {
		t.Errorf("pause's time to live %v, want about 4s", ttl)
	}
	if got := l.Key("plain"); got != prefix+":limit:{plain}" {
		t.Errorf("Key(plain) = %q: a key without a hash tag is its own", got)
	}
}

func TestBadPrefix(t *testing.T) {
	if _, err := redis.New(nil, "a{b}"); !errors.Is(err, redis.ErrBadPrefix) {
		t.Fatalf("New with a braced prefix: %v, want ErrBadPrefix", err)
	}
}

// A Redis that does not answer is an error naming the limit.
func TestUnreachable(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer c.Close()
	l, err := redis.New(c, "x")
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Reserve(context.Background(), ratelimit.PerSecond("bot:{1}", 1))
	if err == nil || !strings.Contains(err.Error(), "bot:{1}") {
		t.Fatalf("Reserve on no Redis: %v, want an error naming the limit", err)
	}
}
