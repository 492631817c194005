// Package telegram is the Telegram adapter: it receives updates from the
// Bot API by long polling or by webhook, files each conversation (a chat,
// a forum topic, or a member of a group chat) under a scope, and turns
// outbound events into Bot API calls under Telegram's rate limits.
//
// The adapter is an adapters.Adapter: run it with adapters.NewHost, which
// owns its scopes, lifecycle, readiness, pushes and metrics. New builds it
// from a Config; Factory builds it from a server's config section.
//
// # Events
//
// Inbound: telegram.message (a Message, which is an event.ChatMessage so
// chat consumers and the command router serve it unchanged),
// telegram.edited_message, telegram.callback_query, telegram.update for
// every other kind of update, and telegram.disconnect when a scope ends.
// Every inbound event keeps the update's raw JSON, so fields the Bot API
// added after the library (reactions, business messages) are not lost.
//
// Outbound: telegram.send, telegram.edit, telegram.answer_callback,
// telegram.chat_action, telegram.send_photo and telegram.send_document,
// and the chat vocabulary's chat.say (event.Say: the text goes to the
// scope's chat and forum topic, as no reply). They go to the sending
// scope's chat and topic unless they name a chat; Push sends one without a
// scope (from a worker, or from another process through the channel
// layer).
//
// # Acknowledged only once handled
//
// An update is confirmed to Telegram only once its handler has returned
// (the Host's acknowledgement), so a process killed at any moment loses
// no update. In polling mode the getUpdates offset is a watermark: the
// lowest update taken and not yet handled. Updates above it that were
// handled meanwhile come back with the next poll and are dropped by
// update_id; after a crash the next poller gets everything from the
// watermark on, so the updates taken and not yet confirmed at the crash
// (at most polling.limit: all of them lie within one getUpdates' reach
// of the watermark) may be handled twice, and no others. An update that
// will not be handled here (its scope failed while ending) is never
// confirmed and is taken again. While updates are in flight the poll's
// timeout drops to a second, so that what they confirm reaches Telegram
// soon. Since a poll returns again everything taken and not yet
// confirmed, after one that brought polling.limit updates the next waits
// until the watermark moved half the limit, so that a poll brings at
// least as many new updates as it returns again; or until at most half
// the limit is left to handle and the watermark moved a fifth of it, so
// that the handlers do not run out of work during the round trip, as
// they would around a slow update near the watermark; or until
// everything taken was handled. A chat whose inbox is full does not hold
// up the others; when too many updates wait for full inboxes, polling
// pauses. On Shutdown the adapter stops polling, waits (until Shutdown's
// deadline) for what it took to be handled, and confirms it.
//
// In webhook mode the handler checks the secret token (in constant time)
// before any work, and answers 200 once the update was handled, or 503
// when it was not handled within webhook.handler_wait (default 25s, below
// the minute or so Telegram waits for an answer), so that Telegram sends
// it again; a retry of an update still being handled waits for that same
// handling rather than starting another. Only updates whose requests were
// open at a crash may be handled twice.
//
// # Rate limits and refusals
//
// Messages are spaced to stay under Telegram's limits (by default 30/s
// for the bot, 1/s per private chat, 20/min per group), by waiting, never
// by dropping; a chat's next message is spaced from when the last one was
// answered, if later than when it was let go. With WithSharedLimits (the
// server sets it on the Redis layer) the limits are kept for every
// process on a ratelimit.Limiter too. A 429 pauses the chat (on the
// shared limits too, for every process) for its retry_after and the call is
// retried; 5xx and network errors are retried with backoff. A call
// Telegram refuses (403 bot blocked, 400 chat not found, or a retryable
// error that outlasted retry.max_attempts) makes Send and Push return an
// *adapters.RefusedError: Code is the Bot API's error_code, Temporary
// whether trying again may help, and errors.As also finds the *APIError.
// The conversation goes on. With error_events: true the refusal is also
// posted to the sending scope as a telegram.error event, for bots that
// handle it there. The token never appears in logs or errors.
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
