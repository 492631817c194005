// Package room is a cross-protocol chat room: people on the web chat page,
// in Telegram chats and in Slack channels who join the same room see each
// other's messages, each prefixed with the sender's name and protocol.
//
// A message is sent to the room's group on the channel layer as a
// room.message event and reaches every member but its sender. A chat
// member's instance joins the group and relays the message to its
// conversation: it says it there (consumer.Chat.Say), quoting none of its
// own member's messages. The web members of a room in one process share a
// hub: one channel of the process in the group, to which the layer
// delivers on its own receiver, and which writes the message's line, framed
// once, to each member's socket without waking the member's goroutine
// (websocket.TrySend): a client that reads too slowly for its send queue is
// disconnected (1013), and a room busier than the process can write to
// has at most 10,000 lines waiting for its hub, past which lines are
// dropped, counted (ObserveDrops; botserver's metrics, reason
// backlog_full) and logged at warn. A web member joins the hub on the
// WebSocket adapter
// over a layer that delivers to subscribers (layer.Subscriber: the
// in-memory and Redis layers); elsewhere its own instance joins the group
// and relays, as a chat member's does. With a Redis layer the members may
// be served by different processes.
//
// A chat member's channel is its conversation's (consumer.WithConversations,
// as botserver runs it): it stays in the room after its scope ended, its
// process restarted or its conversation moved to another process, and
// hears the room without speaking again, until the layer's group expiry.
// A web member's lines are queued for the room (consumer.Base.QueueGroupSend)
// rather than awaited one by one, so that a member who sends fast is not
// held to a layer round trip per line; a send that fails later is counted
// and logged.
package room
