package echo

import (
	"context"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
)

// Bot is the echo bot's consumer: one instance per conversation, on any
// chat protocol (the web page's WebSocket included), with no code of any
// protocol's own.
type Bot struct{ consumer.Chat }

// Message answers m.
func (b *Bot) Message(ctx context.Context, m event.ChatMessage) error {
	return b.Reply(ctx, "You said: "+m.ChatText())
}

// New returns the echo bot as an application.
func New() *consumer.App[*Bot] {
	return consumer.New(func() *Bot { return new(Bot) }, consumer.OnMessage((*Bot).Message))
}
