package consumer

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
)

// Chat is embedded in chat consumer types, which serve every chat
// protocol with the same code: Telegram, Slack, IRC, the console, and the
// web page, whose text frames are chat messages too.
//
// It adds Reply, which answers the chat message being handled on whatever
// protocol it came from, and Say, which speaks in the scope's conversation
// from any handler. On a WebSocket it accepts the connection unless the
// type registers its own websocket.Connect handler, and closes it with
// 1003 (unsupported data) on a binary frame that no handler takes.
type Chat struct {
	Base
	current event.ChatMessage // the chat message being handled; nil between events
}

// Chatter is implemented by consumer types that embed Chat.
type Chatter interface {
	Instance
	chat() *Chat
}

func (c *Chat) chat() *Chat { return c }

// ErrNoMessage is returned by Reply while no chat message is being
// handled (a layer message, a posted result): use Say there.
var ErrNoMessage = errors.New("consumer: Reply called while no chat message is handled")

// Handle implements scope.Instance. While the event it handles is a chat
// message (event.AsChatMessage), whichever handler it reaches, Reply
// answers that message.
func (c *Chat) Handle(ctx context.Context, ev event.Event) error {
	m, ok := event.AsChatMessage(ev)
	if !ok {
		return c.Base.Handle(ctx, ev)
	}
	c.current = m
	err := c.Base.Handle(ctx, ev)
	c.current = nil
	return err
}

// Reply answers the chat message being handled with text, in its
// conversation, in the protocol's way of answering (Telegram quotes it,
// Slack answers in its thread). It returns ErrNoMessage while no chat
// message is being handled.
func (c *Chat) Reply(ctx context.Context, text string) error {
	if c.current == nil {
		return ErrNoMessage
	}
	return c.Send(ctx, c.current.ChatReply(text))
}

// Say says text in the scope's own conversation (its thread included),
// answering no message in particular: what a bot uses to pass on what it
// heard from elsewhere, such as a group message. It sends event.Say, which
// every chat adapter understands, and works from any handler.
func (c *Chat) Say(ctx context.Context, text string) error {
	return c.Send(ctx, event.Say{Text: text})
}

func (c *Chat) defaultHandle(ctx context.Context, ev event.Event) (bool, error) {
	switch ev := ev.(type) {
	case wsevent.Connect:
		return true, c.Send(ctx, wsevent.Accept{})
	case wsevent.Receive:
		if !ev.IsText() {
			return true, c.Send(ctx, wsevent.Close{Code: wsevent.CloseUnsupported})
		}
	}
	return false, nil
}

// OnMessage registers fn for the chat messages of every chat protocol: any
// event that event.AsChatMessage takes for one and that has no handler of
// its own type.
func OnMessage[P Chatter](fn func(P, context.Context, event.ChatMessage) error) Handler[P] {
	return Handler[P]{
		match: func(ev event.Event) bool { _, ok := event.AsChatMessage(ev); return ok },
		call: func(p P, ctx context.Context, ev event.Event) error {
			return fn(p, ctx, ev.(event.ChatMessage))
		},
		chat: true,
	}
}
