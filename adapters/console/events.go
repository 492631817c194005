package console

import "github.com/switchboard-bots/switchboard/event"

// Message is a line typed into a conversation: "console.message".
type Message struct {
	Conversation string `msgpack:"conversation"`
	User         string `msgpack:"user"`
	Text         string `msgpack:"text"`
	// Raw is the line exactly as it was read.
	Raw string `msgpack:"raw"`
}

var _ event.ChatMessage = Message{}

// Type implements event.Event.
func (Message) Type() string { return "console.message" }

// ChatText implements event.ChatMessage.
func (m Message) ChatText() string { return m.Text }

// ChatReply implements event.ChatMessage: a Send to m's conversation.
func (m Message) ChatReply(text string) event.Event {
	return Send{Conversation: m.Conversation, Text: text}
}

// Send writes a line to a conversation: "console.send". An empty
// Conversation means the scope's own.
type Send struct {
	Conversation string `msgpack:"conversation,omitempty"`
	Text         string `msgpack:"text"`
}

// Type implements event.Event.
func (Send) Type() string { return "console.send" }
