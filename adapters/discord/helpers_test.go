package discord_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// seen is a message as the recording bot handled it.
type seen struct {
	scope *scope.Scope
	msg   discord.Message
}

// recorder is a bot that records every message it handles and answers
// nothing.
type recorder struct {
	consumer.Chat
	seen chan<- seen
}

func (r *recorder) message(_ context.Context, m consumer.ChatMessage) error {
	r.seen <- seen{r.Scope(), m.(discord.Message)}
	return nil
}

func recording() (scope.Application, chan seen) {
	ch := make(chan seen, 1000)
	return consumer.New(func() *recorder { return &recorder{seen: ch} }, consumer.OnMessage((*recorder).message)), ch
}

// run runs a on a Host serving app until the test ends, and waits until
// it is ready.
func run(t *testing.T, a adapters.Adapter, app scope.Application, opts ...adapters.HostOption) *adapters.Host {
	t.Helper()
	base := []adapters.HostOption{adapters.WithScopes(scope.Config{IdleTimeout: -1}),
		adapters.WithLogger(discardLog())}
	h := adapters.NewHost(a, append(base, opts...)...)
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		<-done
	})
	select {
	case <-h.Ready():
	case err := <-done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready within 10s")
	}
	return h
}

func next(t *testing.T, ch <-chan seen) seen {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the bot handled nothing within 10s")
		return seen{}
	}
}

// quiet fails t if ch gets anything within d.
func quiet(t *testing.T, ch <-chan seen, d time.Duration) {
	t.Helper()
	select {
	case s := <-ch:
		t.Fatalf("the bot handled %q, want nothing", s.msg.Content)
	case <-time.After(d):
	}
}

// sayer is a bot that says "said" in the conversation of each message.
type sayerBot struct{ consumer.Chat }

func (b *sayerBot) message(ctx context.Context, _ consumer.ChatMessage) error {
	return b.Send(ctx, event.Say{Text: "said"})
}

func sayer() scope.Application {
	return consumer.New(func() *sayerBot { return new(sayerBot) }, consumer.OnMessage((*sayerBot).message))
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
