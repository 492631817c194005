package admin

import (
	"context"
	"strings"

	"github.com/switchboard-bots/switchboard/bots/room"
	"github.com/switchboard-bots/switchboard/consumer"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
)

const help = "Admin console. /announce <text> speaks in the lobby; /help shows this."

// Bot is the admin console's consumer.
type Bot struct{ consumer.WebSocket }

// Connect accepts and shows the help.
func (b *Bot) Connect(ctx context.Context, _ wsevent.Connect) error {
	if err := b.Accept(ctx, ""); err != nil {
		return err
	}
	return b.SendText(ctx, help)
}

// Receive runs a command.
func (b *Bot) Receive(ctx context.Context, r wsevent.Receive) error {
	cmd, arg, _ := strings.Cut(strings.TrimSpace(r.Text), " ")
	switch cmd {
	case "/announce":
		if arg == "" {
			return b.SendText(ctx, "Usage: /announce <text>")
		}
		m := room.Message{Room: room.Lobby, From: "admin", Protocol: "admin", Text: arg}
		if err := b.GroupSend(ctx, room.Group(room.Lobby), m); err != nil {
			return err
		}
		return b.SendText(ctx, "Announced.")
	case "/help":
		return b.SendText(ctx, help)
	}
	return b.SendText(ctx, "Unknown command "+cmd+". "+help)
}

// New returns the admin console.
func New() *consumer.App[*Bot] {
	return consumer.New(func() *Bot { return new(Bot) }, consumer.On((*Bot).Connect), consumer.On((*Bot).Receive))
}
