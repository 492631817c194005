package redis_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

var hello = event.Message{"type": "chat.message", "text": "hello"}

// TestRoundTrips counts what each operation costs: one round trip for a
// send, a receive of a queued message, a group add and a group send to a
// thousand members on one server; with two shards a group send reads the
// members, then writes each shard's members in one go.
func TestRoundTrips(t *testing.T) {
	for _, shards := range []int{1, 2} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			cfg := redis.Config{}
			if shards == 1 {
				cfg.URL = startServer(t).URL
			} else {
				cfg.Mode = redis.ModeShards
				for range shards {
					cfg.Shards = append(cfg.Shards, startServer(t).URL)
				}
			}
			var c redistest.RoundTrips
			l := newLayer(t, cfg, redis.WithHook(&c))
			ctx := t.Context()
			const members = 1000
			for i := range members {
				if err := l.GroupAdd(ctx, "room", "member."+strconv.Itoa(i)); err != nil {
					t.Fatal(err)
				}
			}
			// Scripts are sent in full once per server; count after that.
			must(t, l.Send(ctx, "warm", hello))
			_, err := l.Receive(ctx, "warm")
			must(t, err)
			must(t, l.GroupSend(ctx, "room", hello))

			check := func(op string, want int64, f func() error) {
				t.Helper()
				var err error
				if got := c.During(func() { err = f() }); got != want {
					t.Errorf("%s: %d round trips, want %d", op, got, want)
				}
				must(t, err)
			}
			check("Send", 1, func() error { return l.Send(ctx, "one", hello) })
			check("Receive", 1, func() error { _, err := l.Receive(ctx, "one"); return err })
			check("GroupAdd", 1, func() error { return l.GroupAdd(ctx, "room", "member.0") })
			check("GroupDiscard", 1, func() error { return l.GroupDiscard(ctx, "room", "nobody") })
			wantGroup := int64(1)
			if shards > 1 {
				wantGroup = 1 + int64(shards)
			}
			check("GroupSend to 1000", wantGroup, func() error { return l.GroupSend(ctx, "room", hello) })
			for _, m := range []string{"member.0", "member.999"} {
				for range 2 { // the warm-up's copy and the counted one
					ev, err := l.Receive(ctx, m)
					must(t, err)
					if ev.Type() != "chat.message" {
						t.Fatalf("%s got %v", m, ev)
					}
				}
			}
		})
	}
}

// TestCommandsPerMessage counts the commands Redis executes per message
// with INFO commandstats, on a server nothing else uses, including those a
// script runs inside Redis, and the time-to-live refreshes that a closing
// layer flushes. On a busy channel most sends are one ZADD, with a
// counted send (a script running three commands) whenever the room the
// last count left is used up, and one PEXPIRE per key every refresh
// interval. On a quiet channel, where each send is the only one in its
// refresh interval, a send is ZADD and PEXPIRE, plus the counted sends:
// 2 + 2/room on average. With ExactCapacity every send is counted. A
// receive is one ZPOPMIN here, since the message is waiting; a receiver
// that must wait adds a BZPOPMIN.
func TestCommandsPerMessage(t *testing.T) {
	for _, tc := range []struct {
		name       string
		exact      bool
		quiet      bool
		maxPerSend float64
	}{
		{name: "busy", maxPerSend: 2},
		// Capacity 100: a count leaves room for 49 sends.
		{name: "quiet", quiet: true, maxPerSend: 2 + 2.0/49},
		{name: "exact", exact: true, maxPerSend: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			l := newLayer(t, redis.Config{URL: srv.URL, ExactCapacity: tc.exact})
			if tc.quiet {
				redis.SetRefreshEvery(l, 0)
			}
			admin := srv.client()
			defer admin.Close()
			ctx := t.Context()
			must(t, l.Send(ctx, "warm", hello)) // loads the script
			_, err := l.Receive(ctx, "warm")
			must(t, err)
			must(t, admin.ConfigResetStat(ctx).Err())

			const n = 1000
			for range n {
				must(t, l.Send(ctx, "cps", hello))
				_, err := l.Receive(ctx, "cps")
				must(t, err)
			}
			must(t, l.Close())
			stats := commandStats(t, admin)
			var sends, receives int64
			for _, name := range []string{"evalsha", "zcard", "zadd", "pexpire"} {
				sends += stats[name]
			}
			for _, name := range []string{"zpopmin", "bzpopmin", "zremrangebyscore"} {
				receives += stats[name]
			}
			perSend, perReceive := float64(sends)/n, float64(receives)/n
			t.Logf("%s channel: %.3f commands per send, %.3f per receive; all: %v", tc.name, perSend, perReceive, stats)
			if perSend > tc.maxPerSend || perReceive > 2 {
				t.Errorf("commands per send %.3f (want ≤ %.3f), per receive %.3f (want ≤ 2)", perSend, tc.maxPerSend, perReceive)
			}
			if sends+receives != total(stats) {
				t.Errorf("commands neither sends nor receives send: %v", stats)
			}
			if stats["zadd"] != n {
				t.Errorf("zadd %d; want %d", stats["zadd"], n)
			}
		})
	}
}

// TestCommandsPerMessageChannelsRedis counts the same for channels_redis,
// the peer the layer is compatible with, for comparison: four commands per
// send (drop expired messages, count, add, expire) and six per receive
// (a script that restores an in-flight set, with the two commands it
// runs, the blocking pop, and adding to and popping from the in-flight
// set).
func TestCommandsPerMessageChannelsRedis(t *testing.T) {
	needChannelsRedis(t)
	srv := startServer(t)
	admin := srv.client()
	defer admin.Close()
	const n = 1000
	out, err := exec.CommandContext(t.Context(), python, "testdata/pairs.py", srv.URL, strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		t.Fatalf("channels_redis pairs: %v\n%s", err, out)
	}
	stats := commandStats(t, admin)
	perPair := float64(total(stats)) / n
	t.Logf("channels_redis: %.2f commands per send and receive; all: %v", perPair, stats)
	if stats["zcount"] != n || stats["bzpopmin"] != n {
		t.Errorf("zcount %d, bzpopmin %d; want %d each", stats["zcount"], stats["bzpopmin"], n)
	}
}

func total(stats map[string]int64) int64 {
	var n int64
	for _, v := range stats {
		n += v
	}
	return n
}

func commandStats(t *testing.T, c *goredis.Client) map[string]int64 {
	t.Helper()
	info, err := c.Info(t.Context(), "commandstats").Result()
	must(t, err)
	stats := make(map[string]int64)
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		stats[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	// What the test and new connections send is not the layer's work.
	for name := range stats {
		switch base, _, _ := strings.Cut(name, "|"); base {
		case "config", "info", "hello", "client":
			delete(stats, name)
		}
	}
	return stats
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
