// Package memory is a channel layer that lives inside one process. It
// serves bots that run as a single process, and tests, which need the
// channel layer's semantics without a server to talk to.
//
// Events are handed from sender to receiver as the very values that were
// sent: nothing is encoded or copied, which is what makes a broadcast to a
// large group cost one queue slot per member and no allocation. The price
// is that a received event is shared with every other receiver of the same
// send, so receivers must treat it as read-only, as the event package
// already asks of all events. A process-local channel with a subscriber
// (Subscribe) gets its messages from the sender's goroutine, with no
// receiver at all; a group send skips full members and counts and logs
// each skip (WithSkipObserver, WithLogger).
//
// The layer is built so that its cost follows the work asked of it rather
// than the number of channels: channels are spread over independently
// locked shards so that unrelated senders do not contend, a blocked
// receiver sleeps until a sender signals it instead of polling, and no
// background goroutine is needed. Expired messages and memberships are
// dropped when they are next looked at; in addition, each new channel or
// group member pays for a few steps of an incremental sweep, which reclaims
// channels and memberships nobody touches any more, so memory stays
// proportional to what is in use even when millions of short-lived
// channels come and go.
package memory
