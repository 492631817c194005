package consumer

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/event"
)

// ChatMessage is event.ChatMessage, the chat message contract.
type ChatMessage = event.ChatMessage

// Chat is embedded in chat consumer types. It adds Reply, which answers the
// message being handled on whatever protocol it came from.
type Chat struct {
	Base
	current ChatMessage // the message being handled; nil between events
}

// Chatter is implemented by consumer types that embed Chat.
type Chatter interface {
	Instance
	chat() *Chat
}

func (c *Chat) chat() *Chat { return c }

// ErrNoMessage is returned by Reply outside a message handler.
var ErrNoMessage = errors.New("consumer: Reply called outside a message handler")

// Reply answers the message being handled with text, in its conversation.
func (c *Chat) Reply(ctx context.Context, text string) error {
	if c.current == nil {
		return ErrNoMessage
	}
	return c.Send(ctx, c.current.ChatReply(text))
}

// OnMessage registers fn for the message events of every chat protocol:
// any event that implements ChatMessage and has no handler of its own type.
func OnMessage[P Chatter](fn func(P, context.Context, ChatMessage) error) Handler[P] {
	return Handler[P]{
		match: func(ev event.Event) bool { _, ok := ev.(ChatMessage); return ok },
		call: func(p P, ctx context.Context, ev event.Event) error {
			m := ev.(ChatMessage)
			c := p.chat()
			c.current = m
			defer func() { c.current = nil }()
			return fn(p, ctx, m)
		},
	}
}
