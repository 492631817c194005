package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// recreate makes l's next send to channel a bare ZADD that creates its key
// anew: a counted send leaves room, and the receive empties the key, which
// Redis then deletes.
func recreate(t *testing.T, l *redis.Layer, channel string) {
	t.Helper()
	ctx := t.Context()
	must(t, l.Send(ctx, channel, hello))
	_, err := l.Receive(ctx, channel)
	must(t, err)
	must(t, l.Send(ctx, channel, hello))
}

// pttl returns key's time to live in milliseconds: -1 with none, -2 with
// no key.
func pttl(t *testing.T, c *goredis.Client, key string) int64 {
	t.Helper()
	ms, err := c.Do(t.Context(), "pttl", key).Int64()
	must(t, err)
	return ms
}

// A key a bare add created has no time to live until the refresh loop
// sets one; Close sets the ones still due.
func TestBareAddGetsTimeToLive(t *testing.T) {
	srv := startServer(t)
	admin := srv.client()
	defer admin.Close()

	t.Run("loop", func(t *testing.T) {
		l := newLayer(t, redis.Config{URL: srv.URL, Prefix: "loop"})
		redis.SetRefreshEvery(l, 200*time.Millisecond)
		recreate(t, l, "c")
		waitFor(t, 10*time.Second, "the loop setting the key's time to live", func(ctx context.Context) error {
			if ms := pttl(t, admin, "loopc"); ms <= 0 {
				return fmt.Errorf("PTTL %d", ms)
			}
			return nil
		})
	})
	t.Run("close", func(t *testing.T) {
		l := newLayer(t, redis.Config{URL: srv.URL, Prefix: "close"})
		redis.SetRefreshEvery(l, time.Hour)
		recreate(t, l, "c")
		if ms := pttl(t, admin, "closec"); ms != -1 {
			t.Fatalf("PTTL after a bare add = %d, want -1 (none yet)", ms)
		}
		must(t, l.Close())
		if ms := pttl(t, admin, "closec"); ms <= 0 || ms > layer.DefaultExpiry.Milliseconds() {
			t.Fatalf("PTTL after Close = %d, want the expiry", ms)
		}
	})
}

// A refresh that fails because Redis went away is tried again until Redis
// is back, with one log line for the outage.
func TestRefreshOutlastsOutage(t *testing.T) {
	srv := startServer(t)
	admin := srv.client()
	defer admin.Close()
	logs := &logRecorder{}
	l := newLayer(t, redis.Config{URL: srv.URL, Prefix: "out"}, redis.WithLogger(slog.New(logs)))
	redis.SetRefreshEvery(l, 500*time.Millisecond)

	recreate(t, l, "c")
	srv.stop()
	logs.await(t, "could not set the time to live")
	srv.start()
	logs.await(t, "setting the time to live of channel keys again")
	if ms := pttl(t, admin, "outc"); ms <= 0 {
		t.Fatalf("PTTL after the outage = %d, want the expiry", ms)
	}
	ev, err := l.Receive(t.Context(), "c")
	must(t, err)
	if ev.Type() != hello.Type() {
		t.Fatalf("received %v after the outage, want the message sent before it", ev)
	}
}

// One process alone never overfills a channel, even after a group send
// filled it behind its tally.
func TestGroupSendMakesRoomStale(t *testing.T) {
	srv := startServer(t)
	admin := srv.client()
	defer admin.Close()
	cfg := redis.Config{URL: srv.URL, Prefix: "stale"}
	cfg.Capacity = 10
	l := newLayer(t, cfg)
	ctx := t.Context()
	must(t, l.Send(ctx, "c", hello)) // counted: 1 held, room for 4
	must(t, l.GroupAdd(ctx, "g", "c"))
	for range 9 {
		must(t, l.GroupSend(ctx, "g", hello))
	}
	if err := l.Send(ctx, "c", hello); !errors.Is(err, redis.ErrChannelFull) {
		t.Fatalf("Send to a channel a group send filled: %v, want ErrChannelFull", err)
	}
	if n := admin.ZCard(ctx, "stalec").Val(); n != 10 {
		t.Fatalf("channel holds %d, want its capacity, 10", n)
	}
}

// Several processes sending to one channel may each fill the room their
// last count left, so the channel may hold up to half its free places
// more per other process; with ExactCapacity it holds its capacity.
func TestCapacityAcrossProcesses(t *testing.T) {
	srv := startServer(t)
	admin := srv.client()
	defer admin.Close()
	const capacity, processes = 10, 3
	for _, exact := range []bool{false, true} {
		prefix := "approx"
		if exact {
			prefix = "exact"
		}
		t.Run(prefix, func(t *testing.T) {
			cfg := redis.Config{URL: srv.URL, Prefix: prefix, ExactCapacity: exact}
			cfg.Capacity = capacity
			var ls []*redis.Layer
			for range processes {
				ls = append(ls, newLayer(t, cfg))
			}
			ctx := t.Context()
			accepted := 0
			send := func(l *redis.Layer) bool {
				err := l.Send(ctx, "c", hello)
				if err != nil && !errors.Is(err, redis.ErrChannelFull) {
					t.Fatal(err)
				}
				if err == nil {
					accepted++
				}
				return err == nil
			}
			// Each counts first, then all fill their rooms.
			for _, l := range ls {
				send(l)
			}
			for _, l := range ls {
				for send(l) {
				}
			}
			held := admin.ZCard(ctx, prefix+"c").Val()
			limit := capacity + (processes-1)*capacity/2
			if exact {
				limit = capacity
			}
			t.Logf("capacity %d, %d processes: %d accepted", capacity, processes, accepted)
			if int64(accepted) != held || accepted < capacity || accepted > limit {
				t.Fatalf("accepted %d, channel holds %d; want between %d and %d", accepted, held, capacity, limit)
			}
			for _, l := range ls {
				if send(l) {
					t.Fatal("a send to the full channel succeeded")
				}
			}
		})
	}
}
