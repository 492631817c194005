package irc

import (
	"cmp"

	"github.com/switchboard-bots/switchboard/event"
)

// Protocol is the scope type of IRC conversations.
const Protocol = "irc"

// Message is a PRIVMSG to a channel the bot is in, or to the bot itself.
type Message struct {
	// Channel is the channel it was said in; "" for a private message.
	Channel string `msgpack:"channel"`
	// Nick, User and Host identify the sender (nick!user@host).
	Nick string `msgpack:"nick"`
	User string `msgpack:"user"`
	Host string `msgpack:"host"`
	Text string `msgpack:"text"`
	// Raw is the line the server sent, written again from its tags,
	// source, command and parameters, without its line end.
	Raw string `msgpack:"raw"`
}

var _ event.ChatMessage = Message{}

// Type implements event.Event.
func (Message) Type() string { return "irc.message" }

// ChatText implements event.ChatMessage.
func (m Message) ChatText() string { return m.Text }

// ChatReply implements event.ChatMessage: a chat.say to the channel, or
// to the sender of a private message.
func (m Message) ChatReply(text string) event.Event {
	return event.Say{To: cmp.Or(m.Channel, m.Nick), Text: text}
}
