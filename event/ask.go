package event

import (
	"strconv"
	"strings"
)

// Ask is the outbound event of a question with choices ("chat.ask"), for
// an adapter that shows choices as buttons of its own: the web chat page
// shows each Choice as a button whose press comes back as an Answer with
// the choice's Token. Where the client cannot show buttons, the adapter
// sends Numbered instead, which a user answers by typing a number.
type Ask struct {
	Text    string   `msgpack:"text"`
	Choices []Choice `msgpack:"choices"`
}

// Choice is one choice of an Ask: the Text its button shows and the Token
// its press carries back. A token is opaque to the user and to the
// adapter; it must be non-empty, unique within its Ask, and at most
// MaxTokenLen bytes.
type Choice struct {
	Text  string `msgpack:"text"`
	Token string `msgpack:"token"`
}

// MaxTokenLen bounds a Choice's Token, as Telegram bounds a button's
// callback data: 64 bytes.
const MaxTokenLen = 64

// Type implements Event.
func (Ask) Type() string { return "chat.ask" }

// Numbered returns the question with its choices as numbered lines, how
// a client without buttons reads it:
//
//	Which size?
//	1. S
//	2. M
func (a Ask) Numbered() string {
	var sb strings.Builder
	sb.WriteString(a.Text)
	for i, c := range a.Choices {
		sb.WriteString("\n" + strconv.Itoa(i+1) + ". " + c.Text)
	}
	return sb.String()
}

// Answer is the inbound event of a pressed button ("chat.answer"): the
// Token of the Choice it showed, and the choice's Text where the adapter
// knows it. An adapter delivers only tokens it offered in the
// conversation; a handler still treats a token as the user's input, since
// the question it belongs to may have been answered meanwhile.
type Answer struct {
	Token string `msgpack:"token"`
	Text  string `msgpack:"text,omitempty"`
}

// Type implements Event.
func (Answer) Type() string { return "chat.answer" }
