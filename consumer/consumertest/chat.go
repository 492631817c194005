package consumertest

import (
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// ChatProtocol is the Scope.Type of the scopes a Chat communicator drives.
const ChatProtocol = "chat"

// Message is the chat message a Chat communicator says: "chat.message",
// numbered from 1 in its conversation. It implements event.ChatMessage as
// every chat adapter's message event does.
type Message struct {
	ID   int    `msgpack:"id"`
	Text string `msgpack:"text"`
}

var _ event.ChatMessage = Message{}

func (Message) Type() string { return "chat.message" }

// ChatText implements event.ChatMessage.
func (m Message) ChatText() string { return m.Text }

// ChatReply implements event.ChatMessage: a Reply to m.
func (m Message) ChatReply(text string) event.Event { return Reply{To: m.ID, Text: text} }

// Reply is the answer to a Message: "chat.reply", naming the message it
// answers.
type Reply struct {
	To   int    `msgpack:"to"`
	Text string `msgpack:"text"`
}

func (Reply) Type() string { return "chat.reply" }

// Chat drives a chat scope the way a chat adapter does: the user says
// messages, and the instance answers them (Reply) or speaks in the
// conversation (event.Say).
type Chat struct {
	*Communicator
	n int
}

// NewChat returns a Chat communicator for a new conversation of app with
// the user "tester" in a private chat. Scope() may be changed before the
// first message. It ends with "chat.disconnect" when the test ends.
func NewChat(t testing.TB, app scope.Application, opts ...Option) *Chat {
	t.Helper()
	s := &scope.Scope{
		Type: ChatProtocol, Adapter: ChatProtocol, Key: "test",
		User: scope.User{ID: "1", Name: "Tester", Username: "tester"},
		Chat: scope.Chat{ID: "test", Type: "private"},
	}
	return &Chat{Communicator: New(t, app, s, opts...)}
}

// Say delivers a message with text from the user, and returns it.
func (c *Chat) Say(text string) Message {
	c.t.Helper()
	c.n++
	m := Message{ID: c.n, Text: text}
	c.Send(m)
	return m
}

// ReceiveReply returns the next event the instance sent, failing the test
// unless it is a Reply.
func (c *Chat) ReceiveReply() Reply {
	c.t.Helper()
	return Receive[Reply](c.Communicator)
}

// ReceiveSay returns the text of the next event the instance sent,
// failing the test unless it is an event.Say.
func (c *Chat) ReceiveSay() string {
	c.t.Helper()
	return Receive[event.Say](c.Communicator).Text
}
