package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestFanInServerDown puts a message for a channel on the server its
// name does not hash to, as channels_redis' round robin does, then kills
// the server it does hash to: the receiver still gets the message from
// the other server, and gets messages from the first again once it is
// back.
func TestFanInServerDown(t *testing.T) {
	a, b := startServer(t), startServer(t)
	const prefix = "fanin"
	l := newLayer(t, redis.Config{Mode: redis.ModeShards, Shards: []string{a.URL, b.URL}, Prefix: prefix})
	onB := newLayer(t, redis.Config{URL: b.URL, Prefix: prefix})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// A channel whose name hashes to a.
	home := func(ch string) *server {
		must(t, l.Send(ctx, ch, event.Message{"type": "test.probe"}))
		c := a.client()
		defer c.Close()
		n, err := c.Exists(ctx, prefix+ch).Result()
		must(t, err)
		_, err = l.Receive(ctx, ch)
		must(t, err)
		if n == 1 {
			return a
		}
		return b
	}
	ch := ""
	for _, name := range []string{"go.lobby", "go.kitchen", "go.garden", "go.attic"} {
		if home(name) == a {
			ch = name
			break
		}
	}
	if ch == "" {
		t.Fatal("no name hashed to the first server")
	}

	must(t, onB.Send(ctx, ch, event.Message{"type": "test.elsewhere"}))
	a.stop()
	if ev, err := l.Receive(ctx, ch); err != nil || ev.Type() != "test.elsewhere" {
		t.Fatalf("with its own server down: %v, %v; want the message on the other", ev, err)
	}
	a.start()
	must(t, l.Send(ctx, ch, event.Message{"type": "test.home"}))
	if ev, err := l.Receive(ctx, ch); err != nil || ev.Type() != "test.home" {
		t.Fatalf("after its server came back: %v, %v", ev, err)
	}
}
