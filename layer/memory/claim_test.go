package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

type got struct {
	channel, text string
}

// TestClaim: a claim takes what waited on its prefix's channels, then
// what is sent and group sent to them, with each channel's name; other
// prefixes are left alone, a second claim is refused, and after cancel
// messages wait for the next claim.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	text := func(sh *layer.Shared) string {
		s, _ := sh.Event().(event.Message)["text"].(string)
		return s
	}
	msg := func(s string) event.Event { return event.Message{"type": "m", "text": s} }
	if err := l.Send(ctx, "conv.1!tg.1", msg("early")); err != nil {
		t.Fatal(err)
	}
	var seen []got
	cancel, err := l.Claim("conv.1", func(ch string, sh *layer.Shared) { seen = append(seen, got{ch, text(sh)}) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Claim("conv.1", func(string, *layer.Shared) {}); err == nil {
		t.Fatal("a second claim of one prefix was accepted")
	}
	if _, err := l.Subscribe("conv.1!tg.1", func(*layer.Shared) {}); err == nil {
		t.Fatal("a channel of a claimed prefix took a subscriber")
	}
	_ = l.Send(ctx, "conv.1!tg.2", msg("sent"))
	_ = l.Send(ctx, "conv.2!tg.3", msg("other prefix"))
	_ = l.GroupAdd(ctx, "room", "conv.1!tg.1")
	_ = l.GroupAdd(ctx, "room", "conv.1!tg.2")
	_ = l.GroupSend(ctx, "room", msg("group"))
	want := []got{{"conv.1!tg.1", "early"}, {"conv.1!tg.2", "sent"}, {"conv.1!tg.1", "group"}, {"conv.1!tg.2", "group"}}
	if len(seen) != len(want) {
		t.Fatalf("claim got %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("claim got %v, want %v", seen, want)
		}
	}
	cancel()
	_ = l.Send(ctx, "conv.1!tg.1", msg("later"))
	if len(seen) != len(want) {
		t.Fatalf("claim got %v after cancel", seen[len(want):])
	}
	ev, err := l.Receive(ctx, "conv.1!tg.1")
	if err != nil || ev.(event.Message)["text"] != "later" {
		t.Fatalf("after cancel Receive = %v, %v; want the message kept", ev, err)
	}
	if _, err := l.Claim("bad!", nil); !errors.Is(err, layer.ErrInvalidName) {
		t.Fatalf("Claim of an invalid prefix = %v", err)
	}
}
