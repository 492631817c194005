package console

import (
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Message is a line typed into a conversation: "console.message".
type Message struct {
	Conversation string `msgpack:"conversation"`
	User         string `msgpack:"user"`
	Text         string `msgpack:"text"`
	// Raw is the line exactly as it was read.
	Raw string `msgpack:"raw"`
}

func (Message) Type() string { return "console.message" }

// ChatText returns the message text, for chat consumers and routers.
func (m Message) ChatText() string { return m.Text }

// ChatReply returns the Send that answers m in its conversation.
func (m Message) ChatReply(text string) event.Event {
	return Send{Conversation: m.Conversation, Text: text}
}

// Send writes a line to a conversation: "console.send". An empty
// Conversation means the scope's own.
type Send struct {
	Conversation string `msgpack:"conversation,omitempty"`
	Text         string `msgpack:"text"`
}

func (Send) Type() string { return "console.send" }

// Disconnect ends a console conversation: "console.disconnect".
type Disconnect struct {
	Reason scope.Reason `msgpack:"reason"`
}

func (Disconnect) Type() string { return "console.disconnect" }

// EndReason implements scope.Final.
func (d Disconnect) EndReason() scope.Reason { return d.Reason }
