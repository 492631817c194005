package counter

import (
	"context"
	"strconv"
	"strings"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
)

// Count is what a conversation remembers.
type Count struct {
	N int `json:"n"`
}

// Bot is the counter's consumer.
type Bot struct {
	consumer.Chat
	consumer.Stateful[Count]
}

// Message counts m and answers with the count; "/count" answers with the
// count without counting, "/reset" sets it to 0.
func (b *Bot) Message(ctx context.Context, m event.ChatMessage) error {
	switch strings.TrimSpace(m.ChatText()) {
	case "/reset":
		*b.State() = Count{}
		return b.Reply(ctx, "Count reset.")
	case "/count":
		return b.Reply(ctx, "Count: "+strconv.Itoa(b.State().N))
	}
	b.State().N++
	return b.Reply(ctx, "#"+strconv.Itoa(b.State().N))
}

// New returns the counter bot as an application. Its counts live in the
// session store that session.Middleware puts above it, or in memory.
func New() *consumer.App[*Bot] {
	return consumer.New(func() *Bot { return new(Bot) }, consumer.OnMessage((*Bot).Message))
}
