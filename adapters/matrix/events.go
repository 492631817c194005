package matrix

import "github.com/switchboard-bots/switchboard/event"

// Protocol is the scope type of Matrix conversations.
const Protocol = "matrix"

// Message is an m.room.message from someone other than the bot, in a room
// the bot has joined; m.notice messages, which bots send, are not
// delivered, so that two bots never answer each other for ever.
type Message struct {
	// RoomID is the room it was sent in ("!abc:example.org").
	RoomID string `msgpack:"room_id"`
	// EventID is the message's own id ("$xyz").
	EventID string `msgpack:"event_id"`
	// Sender is the sender's user id ("@ada:example.org").
	Sender string `msgpack:"sender"`
	// MsgType is the content's msgtype: m.text, m.notice, m.emote, ...
	MsgType string `msgpack:"msgtype"`
	// Body is the plain-text body.
	Body string `msgpack:"body"`
	// Thread is the event id of the thread's root when the message is in
	// a thread (an m.thread relation), else "".
	Thread string `msgpack:"thread"`
	// Raw is the event's JSON as the homeserver sent it.
	Raw []byte `msgpack:"raw"`
}

var _ event.ChatMessage = Message{}

// Type implements event.Event.
func (Message) Type() string { return "matrix.message" }

// ChatText implements event.ChatMessage.
func (m Message) ChatText() string { return m.Body }

// ChatReply implements event.ChatMessage: the answer goes to the room,
// in the message's thread if it is in one, as a reply to it.
func (m Message) ChatReply(text string) event.Event {
	return Send{RoomID: m.RoomID, Text: text, Thread: m.Thread, ReplyTo: m.EventID}
}

// Send posts a text message. Without a RoomID it goes to the scope's own
// room (and thread, when threads are conversations of their own).
type Send struct {
	RoomID string `msgpack:"room_id"`
	Text   string `msgpack:"text"`
	// Notice sends an m.notice, which by convention bots never answer,
	// instead of an m.text.
	Notice bool `msgpack:"notice"`
	// Thread is the event id of a thread's root to post in.
	Thread string `msgpack:"thread"`
	// ReplyTo is the event id of a message to answer (m.in_reply_to).
	ReplyTo string `msgpack:"reply_to"`
}

// Type implements event.Event.
func (Send) Type() string { return "matrix.send" }
