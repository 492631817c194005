// Package event is Switchboard's shared vocabulary: the Event interface that
// every inbound and outbound event implements, the generic Message form that
// events take when they cross a channel layer, and the conversion between the
// two; the chat message contract (ChatMessage) and the outbound Say that
// every chat adapter understands; a question with choices shown as
// buttons (Ask) and the press of one (Answer); why a scope ended (Reason); and the
// refusal of a scope that nothing serves (ErrNoRoute).
//
// A built-in event is a plain Go struct whose Type method returns its
// "protocol.event" name, declared on the value receiver so that the zero value
// already knows its type:
//
//	type Receive struct {
//		Text  string `msgpack:"text,omitempty"`
//		Bytes []byte `msgpack:"bytes,omitempty"`
//	}
//
//	func (Receive) Type() string { return "websocket.receive" }
//
// Inside one process events travel as these typed values and are never
// encoded. When an event leaves the process through a channel layer it is
// encoded as a MessagePack map whose "type" key holds the type name, the
// format Django Channels uses, and it arrives on the other side as a Message.
// Consumers turn a Message back into the struct their handler asks for with
// Decode, so bot authors only ever see typed values.
//
// This package and its protocol packages (event/websocket, event/http) sit
// at the bottom of the import graph: scope, layer, consumer, routers and
// adapters all import them, and they import none of those.
//
// # Import names
//
// The protocol packages are named websocket and http, like the packages
// that serve those protocols (net/http, a WebSocket library). Code that
// needs both imports the event packages under the names wsevent and
// httpevent, which Switchboard's own packages use throughout:
//
//	import (
//		"net/http"
//
//		httpevent "github.com/switchboard-bots/switchboard/event/http"
//		wsevent "github.com/switchboard-bots/switchboard/event/websocket"
//	)
package event
