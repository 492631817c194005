package xmpp

import "github.com/switchboard-bots/switchboard/event"

// Protocol is the scope type of XMPP conversations.
const Protocol = "xmpp"

// Chat types of scope.Chat.Type, as XMPP names its message types.
const (
	ChatPrivate = "chat"      // one-to-one, or privately with a room's occupant
	ChatRoom    = "groupchat" // a multi-user chat room
)

// Message is a chat message to the bot, or to a room it is in.
type Message struct {
	// Room is the room's bare JID; "" for a one-to-one message.
	Room string `msgpack:"room"`
	// From is the sender: a bare JID, or the occupant's room@service/nick.
	From string `msgpack:"from"`
	// Nick is the sender's nick in the room, or the JID's localpart.
	Nick string `msgpack:"nick"`
	// ID is the stanza's id, if it has one.
	ID   string `msgpack:"id"`
	Text string `msgpack:"text"`
	// Raw is the message stanza as XML.
	Raw string `msgpack:"raw"`
}

var _ event.ChatMessage = Message{}

// Type implements event.Event.
func (Message) Type() string { return "xmpp.message" }

// ChatText implements event.ChatMessage.
func (m Message) ChatText() string { return m.Text }

// ChatReply implements event.ChatMessage: the answer goes to the room, or
// to the sender of a one-to-one message.
func (m Message) ChatReply(text string) event.Event {
	if m.Room != "" {
		return Send{To: m.Room, Text: text}
	}
	return Send{To: m.From, Text: text}
}

// Send says Text to To: a room the bot is in (a groupchat message) or
// anyone else (a chat message). Without To, to the scope's own
// conversation.
type Send struct {
	To   string `msgpack:"to"`
	Text string `msgpack:"text"`
}

// Type implements event.Event.
func (Send) Type() string { return "xmpp.send" }

// Chat states of XEP-0085: what ChatState shows the other side.
const (
	StateComposing = "composing" // typing
	StatePaused    = "paused"    // stopped typing
	StateActive    = "active"
	StateInactive  = "inactive"
	StateGone      = "gone"
)

// ChatState shows the bot's chat state (XEP-0085), such as "composing"
// (typing), in To, or in the scope's own conversation: the chat action of
// XMPP. A message the bot sends afterwards carries "active", which ends
// a typing notification.
type ChatState struct {
	To    string `msgpack:"to"`
	State string `msgpack:"state"`
}

// Type implements event.Event.
func (ChatState) Type() string { return "xmpp.chat_state" }
