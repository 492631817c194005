// Package matrix is the Matrix adapter: it follows a bot account's
// rooms through the client-server API's /sync long poll, files each room
// (or each thread, with threads: true) under a scope, and turns outbound
// events into sends, on maunium.net/go/mautrix.
//
//	matrix:
//	  homeserver: https://matrix.example.org
//	  access_token: ${MATRIX_TOKEN}
//	  store: /var/lib/switchboard/matrix.json
//
// The adapter is an adapters.Adapter: run it with adapters.NewHost, which
// owns its scopes, lifecycle, readiness, pushes and metrics. New builds it
// from a Config; Factory from a server's config section.
//
// # Events
//
// Inbound: matrix.message (a Message, which is an event.ChatMessage, so
// chat consumers and the command router serve Matrix unchanged) for each
// m.room.message from someone else in a room the bot is in, with the
// event's JSON in Raw; the scope ends with the runtime's
// matrix.disconnect. The bot's own events, which come back to it in its
// timeline, are skipped, as are notices (msgtype m.notice, which bots
// send and the specification asks clients not to answer) and events of
// other types. Outbound: matrix.send, and chat.say to the scope's room
// and thread. Push sends a matrix.send that names its room, without a
// scope.
//
// # Nothing handled twice, nothing lost
//
// Each sync answer is a batch that ends at its next_batch token. The
// adapter stores (Config.Store, a file replaced atomically, or any Store
// given with WithStore) the token past which every event was handled:
// it moves past a batch only once every message of it, and of every
// batch before it, was acknowledged by the Host (the runtime's rule: its
// handler returned). Beside it the store keeps the ids of the messages
// handled after that token, so that a restart, which syncs from the
// stored token and so gets those batches again, skips what was handled
// and handles the rest. One goroutine writes the store, one write behind
// the handlers at most; no acknowledgement waits for a disk.
//
// A Shutdown waits (until its deadline) for what was taken and stores
// where that leaves it. A hard stop (Run's context cancelled) waits as
// long as the Host does for the handlers it cancelled, and stores what
// they finished. A process killed outright loses no message, and handles
// again the ones it handled after its last completed write (a write
// syncs the file to disk: a few milliseconds on an idle disk, more on a
// busy one). A first start stores its position before it hands anything
// over, so that a process killed before its first write does not start
// at the present again. Without a store, each start begins at the
// present. A store that cannot be read stops Serve with an error naming
// it, rather than start over and lose or repeat messages; a failed write
// is logged, and the adapter goes on.
//
// On its first start (no stored token) the adapter skips the messages of
// the first sync: a room's history is not answered. It asks for up to 100
// timeline events per room and sync; when the homeserver still cuts a
// timeline short (limited: true, after a long stop), the adapter pages
// back through /rooms/{roomId}/messages from the timeline's prev_batch to
// the token it synced from, and hands over the events it left out first,
// in order: up to sync.max_pending of them, the older ones being logged
// as not handled.
//
// # Rooms, threads, invites
//
// A room is one conversation, keyed by its room id, threads included
// (answers go into the thread of the message they answer). With threads:
// true each thread is a conversation of its own, keyed by room and
// thread root, and chat.say goes into the scope's thread. Invites are
// joined at once (auto_join: false turns that off).
//
// # End-to-end encryption is not supported
//
// The adapter reads and writes unencrypted rooms only. A room that is or
// becomes encrypted (an m.room.encryption state event, in an invite or a
// room's state or timeline) is refused clearly: a warning in the log and
// an m.notice in the room saying that the bot cannot read it, once per
// room and process. Encrypted messages (m.room.encrypted) are logged,
// never silently dropped, and not handled.
//
// # Sends, rate limits and refusals
//
// Every send carries a transaction id of its own, unique across
// restarts, that each retry of it repeats: the homeserver makes one event
// per transaction id, so a send whose answer was lost and is tried again
// is not posted twice. An M_LIMIT_EXCEEDED (429) holds every call of the
// account back for its retry_after_ms (or Retry-After header), not just
// the one refused, since Matrix limits a user and not a room; network
// errors and 5xx are retried with backoff, up to retry.max_attempts. A
// send the homeserver refuses (M_FORBIDDEN, M_NOT_FOUND, or a retryable
// error that outlasted the attempts) returns an *adapters.RefusedError
// whose Code is the errcode; the conversation goes on. The sync loop
// reconnects with backoff (retry.min_backoff doubling to
// retry.max_backoff) whenever it fails, and Serve ends only when the
// homeserver refuses the access token (ErrUnauthorized). The access
// token is never logged: it travels in the Authorization header only and
// Config prints it as [redacted].
//
// # Several processes
//
// Two processes syncing one account would each handle every message.
// Processes that share a Lease (WithLease; Factory takes the channel
// layer's when the layer is shared, as the Redis layer is) elect one
// syncer: it renews the lease every third of sync.lease_ttl and stops as
// soon as a renewal is refused; the others stand by and take over within
// sync.lease_ttl and a third of it when it stops, each term starting from
// the store, which they must therefore share (a file on a shared volume,
// or a Store of their own given with WithStore). The lease is named by a
// hash of the homeserver and the token, never the token.
//
// Package matrixtest is a fake homeserver for testing the adapter and
// bots built on it.
package matrix
