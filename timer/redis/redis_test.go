package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/timer"
	"github.com/switchboard-bots/switchboard/timer/redis"
	"github.com/switchboard-bots/switchboard/timer/timertest"
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
	timertest.Run(t, func(t *testing.T) timer.Store {
		return redis.New(client(t), redis.WithPrefix(prefix))
	}, timertest.Features{MultiProcess: true})
}

// TestBadRecordDropped: a timer that does not decode is reported and
// dropped rather than claimed again at every lease's end.
func TestBadRecordDropped(t *testing.T) {
	c := client(t)
	prefix := testPrefix(t)
	st := redis.New(c, redis.WithPrefix(prefix))
	ctx := context.Background()
	c.ZAdd(ctx, prefix+"timers:chat:due", goredis.Z{Score: 1, Member: "k\x00bad"})
	c.HSet(ctx, prefix+"timers:chat:data", "k\x00bad", "not msgpack")
	if _, err := st.Claim(ctx, "chat", time.UnixMilli(2), 10, time.Millisecond); err == nil {
		t.Fatal("an undecodable timer claimed without an error")
	}
	if cs, err := st.Claim(ctx, "chat", time.Now(), 10, time.Millisecond); len(cs) != 0 || err != nil {
		t.Fatalf("claimed again: %d, %v", len(cs), err)
	}
}
