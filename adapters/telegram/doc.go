// Package telegram is the Telegram adapter: it receives updates from the
// Bot API by long polling or by webhook, files each conversation (a chat,
// a forum topic, or a member of a group chat) under a scope, and turns
// outbound events into Bot API calls under Telegram's rate limits.
//
// # Events
//
// Inbound: telegram.message (a Message, which is a consumer.ChatMessage
// so chat consumers and the command router serve it unchanged),
// telegram.edited_message, telegram.callback_query, telegram.update for
// every other kind of update, and telegram.disconnect when a scope ends.
// Every inbound event keeps the update's raw JSON, so fields the Bot API
// added after the library (reactions, business messages) are not lost.
//
// Outbound: telegram.send, telegram.edit, telegram.answer_callback,
// telegram.chat_action, telegram.send_photo and telegram.send_document.
// They go to the sending scope's chat and topic unless they name a chat;
// Push sends one without a scope (from a worker, or from another process
// through the channel layer).
//
// # Nothing lost, nothing doubled
//
// An update is confirmed to Telegram (by the next getUpdates offset) only
// once its scope's inbox accepted it, so a crash loses nothing: the next
// poller gets the unconfirmed updates again. Updates are deduplicated by
// update_id. A chat whose inbox is full does not hold up the others; when
// too many updates wait for full inboxes, polling pauses. On Shutdown (or
// when Run's context ends) the adapter confirms what was accepted, so a
// restarted adapter does not see those updates again.
//
// In webhook mode the handler answers 200 only once the update is in its
// scope's inbox, and checks the secret token in constant time.
//
// # Rate limits and errors
//
// Messages are spaced to stay under Telegram's limits (by default 30/s
// for the bot, 1/s per private chat, 20/min per group), by waiting, never
// by dropping. A 429 pauses the chat for its retry_after and the call is
// retried; 5xx and network errors are retried with backoff. A call
// Telegram refuses for good (400 chat not found, 403 bot blocked) is
// logged and posted back to the sending instance as a telegram.error
// event. The token never appears in logs or errors.
//
// # Scaling out
//
// Telegram lets one process poll a token at a time. Processes that share
// a Lease (WithLease) elect one poller: the holder renews the lease every
// third of polling.lease_ttl and stops polling as soon as a renewal is
// refused, the others try for it as often. Across processes use the Redis
// layer's lease, (*redis.Layer).Lease() or redis.NewLease from
// layer/redis; MemoryLease serves only adapters within one process. A
// poller that stops cleanly releases the lease at once; one that dies
// leaves it to expire, and another process polls within polling.lease_ttl
// plus a third of it, starting from the updates the dead one had not
// confirmed (so those few may be handled twice). The lease is named by a
// hash of the token, never the token. To spread the load of one bot over many
// processes, use webhook mode instead: any number of processes behind a
// load balancer serve WebhookHandler, and the channel layer carries what
// they need to share.
//
// Package telegramtest is a fake Bot API server for testing the adapter
// and bots built on it.
package telegram
