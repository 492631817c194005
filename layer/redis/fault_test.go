package redis_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestOutage kills the server mid-run: operations fail with errors that
// say Redis is unavailable, a receiver that gives up says why, a receiver
// left waiting gets the next message once the server is back, and every
// message the server acknowledged before the crash arrives, in order.
func TestOutage(t *testing.T) {
	srv := startServer(t)
	l := newLayer(t, redis.Config{URL: srv.URL})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const n, before = 50, 10
	for i := range n {
		must(t, l.Send(ctx, "work", layertest.Ping{N: i}))
	}
	expect := func(i int) {
		t.Helper()
		ev, err := l.Receive(ctx, "work")
		must(t, err)
		if p, err := event.Decode[layertest.Ping](ev); err != nil || p.N != i {
			t.Fatalf("got %v, %v; want message %d", ev, err, i)
		}
	}
	for i := range before {
		expect(i)
	}

	srv.stop()
	err := l.Send(ctx, "work", layertest.Ping{N: -1})
	if !errors.Is(err, redis.ErrUnavailable) || !strings.Contains(err.Error(), `"work"`) {
		t.Fatalf("Send during the outage: %v; want ErrUnavailable naming the channel", err)
	}
	if err := l.GroupAdd(ctx, "g", "work"); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("GroupAdd during the outage: %v; want ErrUnavailable", err)
	}
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	_, err = l.Receive(short, "work")
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Receive during the outage: %v; want the deadline and ErrUnavailable", err)
	}

	waiting := receiveLater(ctx, l, "work")
	srv.restart()
	got := <-waiting
	must(t, got.err)
	if p, err := event.Decode[layertest.Ping](got.ev); err != nil || p.N != before {
		t.Fatalf("receiver waiting across the restart got %v, %v; want message %d", got.ev, err, before)
	}
	for i := before + 1; i < n; i++ {
		expect(i)
	}
	must(t, l.Send(ctx, "work", layertest.Ping{N: n}))
	expect(n)
}

// TestClosePrompt checks that Close releases a receiver whose loop is
// blocked in Redis at once, and itself returns within about one
// BlockTime, the longest a blocking pop can run.
func TestClosePrompt(t *testing.T) {
	srv := startServer(t)
	const block = time.Second
	l, err := redis.New(redis.Config{URL: srv.URL, BlockTime: block})
	must(t, err)
	ctx := t.Context()
	res := make(chan error, 1)
	go func() {
		_, err := l.Receive(ctx, "idle")
		res <- err
	}()
	admin := srv.client()
	defer admin.Close()
	for !strings.Contains(admin.ClientList(ctx).Val(), "cmd=bzpopmin") {
		runtime.Gosched() // poll until the loop is blocked in Redis
	}
	start := time.Now()
	must(t, l.Close())
	if d := time.Since(start); d > 3*block {
		t.Errorf("Close took %s with BlockTime %s", d, block)
	}
	if err := <-res; !errors.Is(err, layer.ErrClosed) || !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("receiver blocked during Close: %v, want ErrClosed", err)
	}
}
