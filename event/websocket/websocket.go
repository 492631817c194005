package websocket

import "github.com/switchboard-bots/switchboard/event"

// Close codes the framework uses (RFC 6455, section 7.4.1).
const (
	CloseNormal         = 1000
	CloseGoingAway      = 1001 // the server is shutting down
	CloseUnsupported    = 1003 // a frame of a kind the application does not take
	CloseAbnormal       = 1006 // the connection dropped without a close frame
	CloseInvalidPayload = 1007 // malformed text (bad UTF-8, bad JSON)
	ClosePolicy         = 1008
	CloseTooBig         = 1009 // a frame over the read limit
	CloseInternalError  = 1011 // the application failed
	CloseTryAgainLater  = 1013 // the client reads too slowly
)

// Connect is the first event of a WebSocket scope: a client asks to open a
// connection. The application answers with Accept, or Close to reject it
// (the client then gets HTTP 403).
type Connect struct{}

func (Connect) Type() string { return "websocket.connect" }

// Accept accepts the connection, optionally choosing one of the
// subprotocols the client offered (Scope.Subprotocols).
type Accept struct {
	Subprotocol string              `msgpack:"subprotocol,omitempty"`
	Headers     map[string][]string `msgpack:"headers,omitempty"`
}

func (Accept) Type() string { return "websocket.accept" }

// Receive is a message from the client: Text for a text frame, Bytes for
// a binary one.
//
// A text frame is a chat message (event.ChatMessage): its ChatText is the
// text and its ChatReply a text frame back, so a chat consumer serves the
// web page as it serves Telegram or Slack. A binary frame is not one (see
// event.AsChatMessage).
type Receive struct {
	Text  string `msgpack:"text,omitempty"`
	Bytes []byte `msgpack:"bytes,omitempty"`
}

var _ event.ChatMessage = Receive{}

func (Receive) Type() string { return "websocket.receive" }

// IsText reports whether the message came in a text frame.
func (r Receive) IsText() bool { return r.Bytes == nil }

// ChatText implements event.ChatMessage: the frame's text.
func (r Receive) ChatText() string { return r.Text }

// ChatReply implements event.ChatMessage: a text frame to the same client.
func (r Receive) ChatReply(text string) event.Event { return Send{Text: text} }

// Send sends a message to the client: a text frame when Bytes is nil, a
// binary frame otherwise.
type Send struct {
	Text  string `msgpack:"text,omitempty"`
	Bytes []byte `msgpack:"bytes,omitempty"`
}

func (Send) Type() string { return "websocket.send" }

// Close closes the connection, or rejects it when sent before Accept.
type Close struct {
	Code   int    `msgpack:"code,omitempty"` // default 1000
	Reason string `msgpack:"reason,omitempty"`
}

func (Close) Type() string { return "websocket.close" }

// Disconnect is the last event of a WebSocket scope. Code is the close code
// the client sent (or 1006 when the connection dropped); Reason says why the
// scope ended: closed by the peer, shutdown, error.
type Disconnect struct {
	Code   int          `msgpack:"code"`
	Reason event.Reason `msgpack:"reason,omitempty"`
}

func (Disconnect) Type() string { return "websocket.disconnect" }

// EndReason implements scope.Final (the end of a scope, whatever the protocol).
func (d Disconnect) EndReason() event.Reason { return d.Reason }
