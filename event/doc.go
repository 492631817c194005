// Package event is Switchboard's shared vocabulary: the Event interface that
// every inbound and outbound event implements, the generic Message form that
// events take when they cross a channel layer, and the conversion between the
// two.
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
// This package sits at the bottom of the import graph: scope, layer,
// consumer, routers and adapters all import it, and it imports none of them.
package event
