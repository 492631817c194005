package room

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Lobby is the room a scope joins when its route captures no {room}.
const Lobby = "lobby"

// Message is what members of a room tell each other: "room.message".
type Message struct {
	Room     string `msgpack:"room"`
	From     string `msgpack:"from"`
	Protocol string `msgpack:"protocol"`
	Text     string `msgpack:"text"`
	// Sender is the sending instance's channel, so that it does not hear
	// itself.
	Sender string `msgpack:"sender,omitempty"`
}

func (Message) Type() string { return "room.message" }

// Line is how a member shows m: "[telegram] Ada: hello".
// It runs once per member a message reaches, so it is one concatenation
// rather than a Sprintf.
func (m Message) Line() string { return "[" + m.Protocol + "] " + m.From + ": " + m.Text }

// Group returns the layer group of a room.
func Group(room string) string { return "room." + room }

func roomOf(s *scope.Scope) string {
	if r := s.Param("room"); r != "" {
		return r
	}
	return Lobby
}

func nameOf(s *scope.Scope) string {
	for _, n := range []string{s.User.Username, s.User.Name, s.User.ID} {
		if n != "" {
			return n
		}
	}
	return "Anonymous"
}

// Option configures New.
type Option func(*hubs)

// ObserveDrops counts, in o, the lines a room's hub drops because its
// writer is behind (see hub.go), as type "room.message" and reason
// consumer.DropBacklogFull. Default: none; they are logged either way.
func ObserveDrops(o consumer.DropObserver) Option { return func(hs *hubs) { hs.drops = o } }

// New returns the room bot: WebSocket scopes get the Web member, every
// other protocol the Chat member.
func New(opts ...Option) scope.Application {
	hs := new(hubs)
	for _, o := range opts {
		o(hs)
	}
	web := consumer.New(func() *Web { return &Web{hubs: hs} },
		consumer.On((*Web).Connect), consumer.On((*Web).Receive), consumer.On((*Web).Relay), consumer.On((*Web).Disconnect))
	chat := consumer.New(func() *Chat { return new(Chat) },
		consumer.OnMessage((*Chat).Message), consumer.On((*Chat).Relay))
	return router.ByProtocol(router.Routes{"websocket": web}, router.Fallback(chat))
}

// Web is a member on a WebSocket: the web chat page. "/name <name>" sets
// the name the others see.
type Web struct {
	consumer.WebSocket
	name, room, self string

	hubs *hubs
	hub  *hub // the room's hub in this process; nil: the member has a channel of its own
}

// Connect joins the room and accepts. On the WebSocket adapter, over a
// layer that delivers to subscribers, the member joins its room's hub in
// this process (see hub.go); else its own channel joins the room's group.
func (w *Web) Connect(ctx context.Context, _ wsevent.Connect) error {
	w.name, w.room = nameOf(w.Scope()), roomOf(w.Scope())
	welcome := fmt.Sprintf("Welcome to room %s, %s! /name <name> changes your name.", w.room, w.name)
	h, id, err := w.hubs.join(ctx, w)
	if err != nil {
		return err
	}
	if h != nil {
		w.hub, w.self = h, id
		if err := w.Accept(ctx, ""); err != nil {
			return err
		}
		return h.welcome(w, welcome)
	}
	self, err := w.ChannelName(ctx)
	if err != nil {
		return err
	}
	w.self = self
	if err := w.GroupAdd(ctx, Group(w.room)); err != nil {
		return err
	}
	if err := w.Accept(ctx, ""); err != nil {
		return err
	}
	return w.SendText(ctx, welcome)
}

// Disconnect leaves the room's hub.
func (w *Web) Disconnect(_ context.Context, _ wsevent.Disconnect) error {
	if w.hub != nil {
		w.hubs.leave(w.hub, w)
		w.hub = nil
	}
	return nil
}

// Receive renames or speaks to the room.
func (w *Web) Receive(ctx context.Context, r wsevent.Receive) error {
	if rest, ok := strings.CutPrefix(r.Text, "/name "); ok && strings.TrimSpace(rest) != "" {
		w.name = strings.TrimSpace(rest)
		return w.SendText(ctx, "You are now "+w.name+".")
	}
	// Queued, not awaited: a member typing fast, or a page pasting lines,
	// is not held to a layer round trip per line, and the lines still go
	// out in order. A send that fails later is counted and logged.
	return w.QueueGroupSend(ctx, Group(w.room), Message{Room: w.room, From: w.name, Protocol: "web", Text: r.Text, Sender: w.self})
}

// Relay shows what another member said, to a member with a channel of
// its own (a hub writes to its members itself).
func (w *Web) Relay(ctx context.Context, m Message) error {
	if m.Sender == w.self {
		return nil
	}
	return w.SendText(ctx, m.Line())
}

// Chat is a member in a chat conversation (Telegram, Slack, console): it
// joins with its first message.
type Chat struct {
	consumer.Chat
	room, self string
	joined     bool // this instance joined (or refreshed) the room
}

// Message speaks to the room.
func (c *Chat) Message(ctx context.Context, m event.ChatMessage) error {
	if !c.joined {
		c.room = roomOf(c.Scope())
		self, err := c.ChannelName(ctx)
		if err != nil {
			return err
		}
		c.self = self
		if err := c.GroupAdd(ctx, Group(c.room)); err != nil {
			return err
		}
		c.joined = true
	}
	return c.GroupSend(ctx, Group(c.room), Message{
		Room: c.room, From: nameOf(c.Scope()), Protocol: c.Scope().Type, Text: m.ChatText(), Sender: c.self,
	})
}

// Relay shows what another member said. It says it in the conversation,
// quoting no message of this member's: the line is someone else's.
func (c *Chat) Relay(ctx context.Context, m Message) error {
	if c.self == "" {
		// A conversation started again by a message to its channel
		// (consumer.WithConversations): its channel is the one it
		// joined with, which tells its own lines apart.
		self, err := c.ChannelName(ctx)
		if err != nil {
			return err
		}
		c.self, c.room = self, roomOf(c.Scope())
	}
	if m.Sender == c.self {
		return nil
	}
	return c.Say(ctx, m.Line())
}
