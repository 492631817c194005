package echo

import (
	"context"

	"github.com/switchboard-bots/switchboard/consumer"
)

// Bot is the echo bot's consumer: one instance per conversation.
type Bot struct{ consumer.Chat }

// Message answers m.
func (b *Bot) Message(ctx context.Context, m consumer.ChatMessage) error {
	return b.Reply(ctx, "You said: "+m.ChatText())
}

// New returns the echo bot as an application.
func New() *consumer.Type[*Bot] {
	return consumer.New(func() *Bot { return new(Bot) }, consumer.OnMessage((*Bot).Message))
}
