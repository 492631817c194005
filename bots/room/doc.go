// Package room is a cross-protocol chat room: people on the web chat page,
// in Telegram chats and in Slack channels who join the same room see each
// other's messages, each prefixed with the sender's name and protocol.
//
// Every member's instance joins the room's group on the channel layer; a
// message is sent to the group as a room.message event and each member
// relays it to its own conversation: a chat member says it there
// (consumer.Chat.Say), quoting none of its own member's messages. With a
// Redis layer the members may be served by different processes.
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
