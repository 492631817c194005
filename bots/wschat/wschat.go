package wschat

import (
	"context"
	"strings"

	"github.com/switchboard-bots/switchboard/consumer"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
)

// Bot is the chat consumer: one instance, and one name, per connection.
type Bot struct {
	consumer.WebSocket
	name string
}

// Connect accepts the connection and welcomes the client.
func (b *Bot) Connect(ctx context.Context, _ wsevent.Connect) error {
	if err := b.Accept(ctx, ""); err != nil {
		return err
	}
	return b.SendText(ctx, "Welcome, "+b.name+"!")
}

// Receive renames on "/name <name>" and echoes anything else.
func (b *Bot) Receive(ctx context.Context, m wsevent.Receive) error {
	if rest, ok := strings.CutPrefix(m.Text, "/name"); ok && (rest == "" || rest[0] == ' ') {
		name := strings.TrimSpace(rest)
		if name == "" {
			return b.SendText(ctx, "Usage: /name <name>")
		}
		b.name = name
		return b.SendText(ctx, "You are now "+name+".")
	}
	return b.SendText(ctx, b.name+": "+m.Text)
}

// New returns the chat consumer.
func New() *consumer.App[*Bot] {
	return consumer.New(func() *Bot { return &Bot{name: "Anonymous"} },
		consumer.On((*Bot).Connect),
		consumer.On((*Bot).Receive))
}
