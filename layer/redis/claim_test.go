package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestClaim: a prefix claimed by one process receives what any process
// sends or group sends to its channels; once the claim is cancelled,
// messages wait in Redis and the next claim, in another process, gets
// them.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	url := sharedURL(t)
	prefix := testPrefix(t, url)
	cfg := redis.Config{URL: url, Prefix: prefix}
	a, b, sender := newLayer(t, cfg), newLayer(t, cfg), newLayer(t, cfg)
	type got struct{ channel, text string }
	msg := func(s string) event.Event { return event.Message{"type": "m", "text": s} }
	claim := func(l *redis.Layer) (func(), chan got) {
		t.Helper()
		ch := make(chan got, 16)
		cancel, err := l.Claim("conv.1", func(name string, sh *layer.Shared) {
			s, _ := sh.Event().(event.Message)["text"].(string)
			ch <- got{name, s}
		})
		if err != nil {
			t.Fatal(err)
		}
		return cancel, ch
	}
	next := func(ch chan got) got {
		t.Helper()
		select {
		case g := <-ch:
			return g
		case <-time.After(10 * time.Second):
			t.Fatal("the claim got nothing")
			return got{}
		}
	}
	cancelA, fromA := claim(a)
	if err := sender.Send(ctx, "conv.1!tg.1", msg("one")); err != nil {
		t.Fatal(err)
	}
	if g := next(fromA); g != (got{"conv.1!tg.1", "one"}) {
		t.Fatalf("claim got %v", g)
	}
	_ = sender.GroupAdd(ctx, "room", "conv.1!tg.1")
	_ = sender.GroupAdd(ctx, "room", "conv.1!tg.2")
	if err := sender.GroupSend(ctx, "room", msg("group")); err != nil {
		t.Fatal(err)
	}
	seen := map[got]bool{next(fromA): true, next(fromA): true}
	if !seen[got{"conv.1!tg.1", "group"}] || !seen[got{"conv.1!tg.2", "group"}] {
		t.Fatalf("claim got %v from a group send", seen)
	}
	if _, err := a.Subscribe("conv.1!tg.1", func(*layer.Shared) {}); err == nil {
		t.Fatal("a channel of another process's prefix took a subscriber")
	}
	cancelA()
	if err := sender.Send(ctx, "conv.1!tg.2", msg("after")); err != nil {
		t.Fatal(err)
	}
	cancelB, fromB := claim(b)
	defer cancelB()
	if g := next(fromB); g != (got{"conv.1!tg.2", "after"}) {
		t.Fatalf("the next claim got %v", g)
	}
	select {
	case g := <-fromA:
		t.Fatalf("a cancelled claim got %v", g)
	default:
	}
}
