// Package layer defines the channel layer: the message bus through which
// consumers that do not share a conversation talk to each other, as in
// Django Channels. A consumer serving one chat cannot call the consumer
// serving another, which may live in another process; instead each consumer
// owns a named channel, and anyone who knows the name can send to it.
// Groups add broadcast on top, so that "everyone in this room" needs no
// registry of its own.
//
// The semantics are those of the Channels layer specification, because they
// are what lets a layer be backed by something as simple as a Redis list:
// delivery is at most once, messages to one channel arrive in the order they
// were sent, every channel is bounded so that a consumer that stopped
// reading cannot exhaust memory, and both messages and group memberships
// expire, so that state left behind by a crashed process disappears on its
// own. A send to a full channel fails loudly, but a group send skips full
// members, since one stuck member must not silence a whole room. A skip is
// never silent: backends count every skipped delivery by group in a
// SkipObserver (botserver's switchboard_layer_group_skipped_total) and log
// it at warn, rate-limited, through a SkipReporter; a sender that would
// rather fail than skip calls GroupSendAll, which sends to every member or
// to none and fails with a *SkipError wrapping ErrChannelFull.
//
// A backend may queue group sends (QueuedGroupSender): QueueGroupSend
// returns once a send is queued, in order with the caller's other group
// sends, and hands its outcome to a callback, so that a caller relaying a
// stream of messages is not held to one round trip per message; the Redis
// layer sends what is queued in batches. With other backends
// QueueGroupSend sends at once.
//
// A backend may deliver process-local channels itself (Subscriber): from
// one receiver per process, or from the sender, rather than a goroutine
// blocked in Receive per channel, handing the local members of one group
// message the same Shared so that it is decoded once per process. Events
// are values shared by every member that receives them: handlers must not
// modify them.
//
// Channels whose names contain "!" are process-local: NewChannel hands them
// out for a consumer's own inbox, and a multi-process backend routes them by
// the part before the "!" to the process that made them. A backend that is
// a Claimer lets a process receive every channel of a prefix it did not
// make, such as the conversation channels of a partition it serves
// ("conv.3!telegram.42"): the part before the "!" then names whoever
// claimed it, and what arrives while nobody does waits in the layer.
//
// Backends live in subpackages (layer/memory) and prove their conformance
// with the suite in layer/layertest.
package layer
