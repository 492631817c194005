package event

import "errors"

// ChatMessage is what every chat adapter's inbound message event offers,
// so that one bot serves Telegram, Slack, IRC, the console, the web page
// and any added protocol: the text, and the protocol's outbound event that
// answers it in the same conversation (and thread). Chat adapters assert
// it at compile time for their message events.
type ChatMessage interface {
	Event
	// ChatText returns the message's text.
	ChatText() string
	// ChatReply returns the outbound event that answers this message
	// with text.
	ChatReply(text string) Event
}

// Say is the outbound event every chat adapter understands: text said in
// the scope's own conversation (its thread included), not as an answer to
// any message.
//
// To names another conversation of the same adapter, in the platform's own
// terms: a Telegram chat id, a Slack channel id, an IRC channel or nick.
// A push (an outbound event sent to an adapter's push channel, with no
// scope) must name one; so a bot that relays between platforms, such as
// a bridge, needs no platform's own event types.
type Say struct {
	Text string `msgpack:"text"`
	To   string `msgpack:"to,omitempty"`
}

// Type implements Event.
func (Say) Type() string { return "chat.say" }

// AsSay returns ev as a Say, and whether it is a chat.say at all (its
// error is for a chat.say whose fields do not decode): for an adapter that
// takes chat.say beside its own outbound events.
func AsSay(ev Event) (Say, bool, error) {
	if ev.Type() != (Say{}).Type() {
		return Say{}, false, nil
	}
	say, err := Decode[Say](ev)
	return say, true, err
}

// AsChatMessage returns ev as a ChatMessage, and whether it is one. An
// event that is a chat message in some forms only also has an IsText
// method, and is a chat message when IsText reports true: a WebSocket
// frame is one when it carries text, not when it carries bytes. Consumers
// and routers ask here rather than asserting ChatMessage themselves, so
// that they agree on what a message is.
func AsChatMessage(ev Event) (ChatMessage, bool) {
	m, ok := ev.(ChatMessage)
	if !ok {
		return nil, false
	}
	if t, ok := ev.(interface{ IsText() bool }); ok && !t.IsText() {
		return nil, false
	}
	return m, true
}

// ErrRefused is wrapped by the error an adapter's Send returns when the
// platform refused the call (the user blocked the bot, the bot is not in
// the channel): errors.Is(err, ErrRefused) tells a refusal from a network
// failure. Adapters return it inside an adapters.RefusedError, which
// carries the platform's code. A handler that returns such an error does
// not end its conversation: consumers log it and go on.
var ErrRefused = errors.New("refused by the platform")
