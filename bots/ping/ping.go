package ping

import (
	"context"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
)

// Bot is the ping consumer: one instance per connection.
type Bot struct {
	consumer.WebSocket
	wait func(context.Context) error
}

// Receive waits, then answers "pong".
func (b *Bot) Receive(ctx context.Context, _ wsevent.Receive) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	return b.SendText(ctx, "pong")
}

// New returns the ping consumer with the given delay before each pong.
func New(delay time.Duration) *consumer.App[*Bot] {
	return NewWithWait(func(ctx context.Context) error {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// NewWithWait returns the ping consumer with wait in place of the delay,
// so that tests decide when each pong goes out.
func NewWithWait(wait func(context.Context) error) *consumer.App[*Bot] {
	return consumer.New(func() *Bot { return &Bot{wait: wait} }, consumer.On((*Bot).Receive))
}
