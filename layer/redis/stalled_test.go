package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestStalledServer stops the servers with SIGSTOP, so that connections
// stay open and nothing is answered, and calls every operation with a
// context of 200 ms: each returns within 300 ms with an error that
// matches ErrUnavailable and the context's error. Once the servers go on,
// the layer works again. It runs on one server and on two shards.
func TestStalledServer(t *testing.T) {
	for _, servers := range []int{1, 2} {
		t.Run(fmt.Sprintf("servers=%d", servers), func(t *testing.T) {
			var srvs []*server
			var urls []string
			for range servers {
				s := startServer(t)
				srvs, urls = append(srvs, s), append(urls, s.URL)
			}
			cfg := redis.Config{URL: urls[0]}
			if servers > 1 {
				cfg = redis.Config{Mode: redis.ModeShards, Shards: urls}
			}
			l := newLayer(t, cfg)
			testStalled(t, l, srvs)
		})
	}
}

func testStalled(t *testing.T, l *redis.Layer, srvs []*server) {
	ctx := t.Context()
	hello := event.Message{"type": "test.hello"}
	// Warm up: connections made, scripts loaded, receive loops run.
	local, err := l.NewChannel(ctx, "go.")
	must(t, err)
	must(t, l.GroupAdd(ctx, "room", local))
	must(t, l.GroupAdd(ctx, "room", "plain"))
	must(t, l.GroupSend(ctx, "room", hello))
	for _, ch := range []string{local, "plain"} {
		must(t, l.Send(ctx, ch, hello))
		for range 2 {
			_, err := l.Receive(ctx, ch)
			must(t, err)
		}
	}

	for _, s := range srvs {
		s.pause()
	}
	for _, c := range []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"Send", func(ctx context.Context) error { return l.Send(ctx, "plain", hello) }},
		{"Send to a process-local channel", func(ctx context.Context) error { return l.Send(ctx, local, hello) }},
		{"GroupSend", func(ctx context.Context) error { return l.GroupSend(ctx, "room", hello) }},
		{"GroupAdd", func(ctx context.Context) error { return l.GroupAdd(ctx, "room", "other") }},
		{"GroupDiscard", func(ctx context.Context) error { return l.GroupDiscard(ctx, "room", "other") }},
		{"Receive", func(ctx context.Context) error { _, err := l.Receive(ctx, "empty"); return err }},
		{"Receive from a process-local channel", func(ctx context.Context) error { _, err := l.Receive(ctx, local); return err }},
		{"Flush", func(ctx context.Context) error { return l.Flush(ctx) }},
	} {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		start := time.Now()
		err := c.op(cctx)
		took := time.Since(start)
		cancel()
		if took > 300*time.Millisecond {
			t.Errorf("%s took %v with a context of 200ms", c.name, took)
		}
		if !errors.Is(err, redis.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want ErrUnavailable and context.DeadlineExceeded", c.name, err)
		}
	}
	start := time.Now()
	if _, err := l.NewChannel(ctx, "go."); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Errorf("NewChannel, which needs no Redis: %v after %v", err, time.Since(start))
	}

	for _, s := range srvs {
		s.resume()
	}
	must(t, l.Send(ctx, "after", hello))
	if ev, err := l.Receive(ctx, "after"); err != nil || ev.Type() != "test.hello" {
		t.Fatalf("after the servers went on: %v, %v", ev, err)
	}
}
