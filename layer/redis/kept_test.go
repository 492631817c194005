package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

type note struct {
	N int `msgpack:"n"`
}

func (note) Type() string { return "test.note" }

// awaitKept waits until the layer keeps want messages and runs loops
// receive loops.
func awaitKept(t *testing.T, l *redis.Layer, want, loops int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, n := redis.Kept(l)
		if m == want && n == loops {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kept %d messages in %d loops, want %d in %d", m, n, want, loops)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

// Messages that reach a process-local channel after its last Receive, as
// a group send does that races with a consumer ending, are kept only
// until they expire: once an expiry has passed, the next message kept
// sweeps them, and an idle process lets them go too.
func TestKeptMessagesGoWhenTheyExpire(t *testing.T) {
	url := sharedURL(t)
	l := newLayer(t, redis.Config{URL: url, Prefix: testPrefix(t, url), Config: layer.Config{Expiry: time.Second}})
	ctx := context.Background()
	live, _ := l.NewChannel(ctx, "specific.")
	gone, _ := l.NewChannel(ctx, "specific.")
	later, _ := l.NewChannel(ctx, "specific.")

	// Someone receives on live, so the loop runs and keeps what arrives
	// for gone.
	rctx, stop := context.WithCancel(ctx)
	received := make(chan error, 1)
	go func() { _, err := l.Receive(rctx, live); received <- err }()
	for i := range 5 {
		if err := l.Send(ctx, gone, note{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	awaitKept(t, l, 5, 1)

	time.Sleep(1100 * time.Millisecond) // the expiry must pass: nothing to await
	if err := l.Send(ctx, later, note{}); err != nil {
		t.Fatal(err)
	}
	awaitKept(t, l, 1, 1) // gone's five swept as later's arrived

	// Nobody receives any more: the loop ends once later's message has
	// expired, forgetting it.
	stop()
	<-received
	awaitKept(t, l, 0, 0)
}
