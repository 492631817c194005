package websocket

import (
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/event/websocket"
)

// FuzzDecodePush feeds arbitrary channel layer payloads to the decoding of
// what reaches a WebSocket scope from the layer (a push from another
// process, a group's Broadcast): none may panic, what is refused is
// refused with an error, and what is accepted is one of
// the events a WebSocket scope sends and crosses the layer again.
func FuzzDecodePush(f *testing.F) {
	for _, ev := range []event.Event{
		websocket.Send{Text: "hi"}, websocket.Send{Bytes: []byte{0, 1, 2}},
		websocket.Accept{Subprotocol: "chat"}, websocket.Close{Code: 4000, Reason: "bye"},
		NewBroadcast("hello, room"), event.Say{Text: "said"},
		event.Ask{Text: "Size?", Choices: []event.Choice{{Text: "S", Token: "t1"}}},
		websocket.Receive{Text: "not outbound"},
	} {
		b, err := event.Marshal(ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x81, 0xa4, 't', 'y', 'p', 'e', 0xa0})
	f.Add([]byte{0x82, 0xa4, 't', 'y', 'p', 'e', 0xaf, 'w', 'e', 'b', 's', 'o', 'c', 'k', 'e', 't', '.', 's', 'e', 'n', 'd', 0xa4, 't', 'e', 'x', 't', 0x05})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := event.Unmarshal(data)
		if err != nil {
			return
		}
		ev, err := decodeWebSocket(m)
		if err != nil {
			return // a message of a known type that does not decode as it: refused
		}
		switch ev.(type) {
		case websocket.Send, websocket.Accept, websocket.Close, *Broadcast, event.Say, event.Ask:
		default:
			t.Fatalf("%q decoded to %T", data, ev)
		}
		if ev.Type() != m.Type() {
			t.Fatalf("%q: %s decoded to %s", data, m.Type(), ev.Type())
		}
		b, err := event.Marshal(ev)
		if err != nil {
			t.Fatalf("%s does not encode again: %v", ev.Type(), err)
		}
		if back, err := event.Unmarshal(b); err != nil || back.Type() != ev.Type() {
			t.Fatalf("%s does not decode again: %v", ev.Type(), err)
		}
	})
}
