package websocket

import (
	"sync"

	gorilla "github.com/gorilla/websocket"
)

// Broadcast is an outgoing message meant for many connections, encoded
// into its frame once rather than once per connection. Send one through
// a channel layer group, and let each member's consumer hand the very value
// it received to Send:
//
//	// the sender
//	c.GroupSend(ctx, "room", websocket.NewBroadcast("hello, room"))
//
//	// every member
//	consumer.On(func(c *Member, ctx context.Context, b *websocket.Broadcast) error {
//		return c.Send(ctx, b)
//	})
//
// The in-memory layer hands the same *Broadcast to every member, so the
// frame is built once per process (and once per compression setting). A
// layer that crosses processes encodes it as an ordinary event with its
// Text or Bytes, and each receiving process prepares its own copy.
//
// A Broadcast must not be modified once sent.
type Broadcast struct {
	Text  string `msgpack:"text,omitempty"`
	Bytes []byte `msgpack:"bytes,omitempty"` // a binary message when not nil

	once sync.Once
	pm   *gorilla.PreparedMessage
	err  error

	rawOnce sync.Once
	raw     []byte // the uncompressed frame, header and payload
}

// NewBroadcast returns a text message for many connections.
func NewBroadcast(text string) *Broadcast { return &Broadcast{Text: text} }

// NewBinaryBroadcast returns a binary message for many connections.
func NewBinaryBroadcast(b []byte) *Broadcast {
	if b == nil {
		b = []byte{}
	}
	return &Broadcast{Bytes: b}
}

// Type implements event.Event. It does not look at b, so that the nil
// *Broadcast, which consumer.On uses to learn the type, answers too.
func (*Broadcast) Type() string { return "websocket.broadcast" }

// prepared returns the message's frame, building it on first use.
func (b *Broadcast) prepared() (*gorilla.PreparedMessage, error) {
	b.once.Do(func() {
		if b.Bytes != nil {
			b.pm, b.err = gorilla.NewPreparedMessage(gorilla.BinaryMessage, b.Bytes)
		} else {
			b.pm, b.err = gorilla.NewPreparedMessage(gorilla.TextMessage, []byte(b.Text))
		}
	})
	return b.pm, b.err
}

// frame returns the message's uncompressed frame as it goes on the wire,
// building it on first use: connections without compression share it,
// and write it without framing it again.
func (b *Broadcast) frame() []byte {
	b.rawOnce.Do(func() {
		op, payload := byte(frameText), b.Text
		if b.Bytes != nil {
			op, payload = frameBinary, string(b.Bytes)
		}
		b.raw = append(frameHeader(make([]byte, 0, maxFrameHeader+len(payload)), op, len(payload)), payload...)
	})
	return b.raw
}
