package djangochat

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Message is the event the Django Channels tutorial's rooms carry:
// "chat.message" with the text in "message".
type Message struct {
	Message string `msgpack:"message"`
	// Sender is the sending instance's channel, so that a chat does not
	// hear itself. The tutorial's consumer ignores the field; a message
	// from Django has none.
	Sender string `msgpack:"sender,omitempty"`
}

// Type implements event.Event.
func (Message) Type() string { return "chat.message" }

// Group returns the layer group of a room, as the tutorial names it.
func Group(room string) string { return "chat_" + room }

// validRoom is what the tutorial's route accepts as a room name (\w+ in
// ws/chat/(?P<room_name>\w+)/$), narrowed to the ASCII a layer group name
// may hold, and short enough that chat_<room> stays under the layer's
// 100 characters.
var validRoom = regexp.MustCompile(`^[A-Za-z0-9_]{1,90}$`)

// Help is the answer to /start, /help and to anything said outside a room.
const Help = "Send /join <room> to talk in a chat room of the site, and /leave to leave it (or !join and !leave)."

// New returns the bot's application: a chat consumer for every chat
// protocol.
func New() scope.Application {
	return consumer.New(func() *Chat { return new(Chat) },
		consumer.OnMessage((*Chat).Message), consumer.On((*Chat).Relay))
}

// Chat is one conversation's member of a room.
type Chat struct {
	consumer.Chat
	room string // "" outside any room
	self string // the instance's channel, once it joined a room
}

// Message handles /join, /leave and /help, and says anything else in the
// chat's room.
func (c *Chat) Message(ctx context.Context, m event.ChatMessage) error {
	text := strings.TrimSpace(m.ChatText())
	cmd, arg := command(text)
	switch cmd {
	case "/join":
		return c.join(ctx, arg)
	case "/leave":
		if c.room == "" {
			return c.Reply(ctx, "You are in no room. "+Help)
		}
		return c.leave(ctx)
	case "/start", "/help":
		return c.Reply(ctx, Help)
	}
	if c.room == "" {
		return c.Reply(ctx, Help)
	}
	if text == "" {
		return nil // a photo, a sticker: nothing the room's page could show
	}
	return c.GroupSend(ctx, Group(c.room), Message{Message: nameOf(c.Scope()) + ": " + text, Sender: c.self})
}

// Relay says in the chat what someone else said in the room.
func (c *Chat) Relay(ctx context.Context, m Message) error {
	if c.self != "" && m.Sender == c.self {
		return nil
	}
	return c.Say(ctx, m.Message)
}

func (c *Chat) join(ctx context.Context, room string) error {
	if !validRoom.MatchString(room) {
		return c.Reply(ctx, "A room name is 1 to 90 letters, digits or underscores: /join lobby")
	}
	if room == c.room {
		return c.Reply(ctx, "You are in room "+room+".")
	}
	if err := c.leave(ctx); err != nil {
		return err
	}
	self, err := c.ChannelName(ctx)
	if err != nil {
		return err
	}
	if err := c.GroupAdd(ctx, Group(room)); err != nil {
		return err
	}
	c.self, c.room = self, room
	return c.Reply(ctx, fmt.Sprintf("You are in room %s: what you write here goes to it. /leave leaves it.", room))
}

// leave leaves the chat's room, quietly if it is in none.
func (c *Chat) leave(ctx context.Context) error {
	if c.room == "" {
		return nil
	}
	room := c.room
	if err := c.GroupDiscard(ctx, Group(room)); err != nil {
		return err
	}
	c.room = ""
	return c.Reply(ctx, "You left room "+room+".")
}

// command splits "/join@SomeBot lobby" into "/join" and "lobby" (Telegram
// adds the bot's name to commands in groups), and "!join lobby" the same:
// IRC and Slack clients take /join and /leave for their own commands.
func command(text string) (cmd, arg string) {
	if !strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "!") {
		return "", ""
	}
	cmd, arg, _ = strings.Cut(text[1:], " ")
	cmd, _, _ = strings.Cut(cmd, "@")
	return "/" + strings.ToLower(cmd), strings.TrimSpace(arg)
}

// nameOf is how the room sees the chat's user.
func nameOf(s *scope.Scope) string {
	for _, n := range []string{s.User.Username, s.User.Name, s.User.ID} {
		if n != "" {
			return n
		}
	}
	return "Anonymous"
}
