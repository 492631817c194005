package event

import (
	"errors"
	"fmt"
)

// Event is anything that travels between adapters, applications and channel
// layers. Type returns the event's "protocol.event" name, such as
// "websocket.receive" or "telegram.send".
//
// Events are values: once sent, an event must not be modified, because the
// in-memory layer and the scope manager hand the same value to every
// receiver.
type Event interface {
	Type() string
}

// ErrNoType reports a message without a usable "type" key.
var ErrNoType = errors.New("event: message has no type")

// TypeError reports an event that cannot be converted to the Go type a
// handler expects.
type TypeError struct {
	Type string // the event's type name
	Want string // the type name the Go type declares
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("event: cannot decode %q into %s", e.Type, e.Want)
}

// Message is the generic form of an event: a map of named fields with the
// type name under "type", as in Django Channels. Events that arrive from a
// channel layer backed by another process are Messages; Decode turns them
// into typed structs.
type Message map[string]any

// Type returns the value of the "type" key, or "" when it is missing or not
// a string.
func (m Message) Type() string {
	s, _ := m["type"].(string)
	return s
}
