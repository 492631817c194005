// Package djangochat joins the chat rooms of a Django Channels site from
// any chat protocol: a Telegram, Slack, IRC or console user who sends
// "/join lobby" talks in the room "lobby" of the site's chat, the one the
// Django Channels tutorial builds, and sees what its web users write.
//
// The tutorial's ChatConsumer keeps each room in the layer group
// chat_<room> and tells its members about a message with the event
// {"type": "chat.message", "message": text}. This bot speaks the same: a
// chat joined to a room adds its instance's channel to the room's group,
// sends what its user writes there as a chat.message ("ada: hello", the
// sender's name first, since the tutorial's page shows the message alone),
// and says in the chat every chat.message the group gets from others. The
// Go botserver and the Django site share the channel layer: the same
// Redis, or the same shards, and the same prefix (channels_redis' default,
// "asgi").
//
// A chat is in at most one room at a time; "/leave" leaves it. Where the
// chat client keeps /join and /leave for itself (IRC, Slack), "!join
// lobby" and "!leave" do the same. It stays
// in its room while its conversation lasts: until the conversation has
// been quiet for the adapter's scopes.idle_timeout, or the server stops.
// Then "/join" again. A chat.message whose message is not text (another
// Django consumer's idea of the event) is dropped by the consumer with a
// warning and counted (see package consumer); the chat stays in its room.
package djangochat
