// Package cluster makes several processes on one Redis serve as one: a
// durable intake, partitioned, with one owner per partition.
//
// An adapter's Host with a Node as its Journal (adapters.WithJournal)
// appends every inbound event to a Redis Stream before the adapter
// acknowledges it to its platform, if the adapter opts in by being an
// adapters.InboundDecoder (Telegram and Slack do; a terminal, a worker's
// layer channels and WebSocket connections stay local): the partition of an event is the hash
// of its adapter's name and conversation key, modulo Config.Partitions,
// and each partition's keys share a hash tag, so that on Redis Cluster a
// partition lives on one slot. Any process may take a platform's traffic
// (a webhook behind a load balancer, a Slack socket per process, the one
// Telegram poller).
//
// Each partition has one owner at a time among the live Nodes: a Node
// announces itself in a set of members, every Node computes the same
// assignment of partitions to the members it sees (rendezvous hashing,
// so a join or a leave moves only the partitions it must), and takes the
// partitions assigned to it through a lease in Redis (SET NX PX) which it
// renews every third of Config.Lease. A lease's value is a token unique to
// its term; every read of new entries (XREADGROUP), claim (XAUTOCLAIM),
// acknowledgement (XACK) and trim of a partition's stream runs in a Lua
// script that first checks the token, so a Node that lost its lease (a
// long pause, a network split) cannot take entries nor act on the
// partition any more; between reads it waits with a plain XREAD, which
// takes nothing. The owner reads its partition with a consumer
// group, first claiming (XAUTOCLAIM) what a previous owner left pending,
// hands each entry to its Host's scope manager, so that each conversation
// is served by one instance, in order, and acknowledges the entry once
// its handler returned. A partition a Node gives up for a rebalance is
// released only once what it handed over was handled, and the local
// scopes of its conversations end with adapters.ReasonMoved.
//
// Events that carry a platform id (adapters.Unique: Telegram's update_id,
// Slack's event_id) are handled once per id within Config.DedupeTTL,
// cluster-wide: the owner marks each id of a batch with SET NX in the
// script that reads the batch, the mark naming the entry
// that set it, and drops an entry whose id another entry marked; an entry
// read again after its owner died is not its own duplicate.
//
// What travels with an entry: the adapter's name, the conversation key,
// the public facts of the scope.Scope that the adapter built (type, user,
// bot, chat, thread, team, path, headers, ...) and the event in the
// event package's MessagePack form with its type, which the owner turns
// back into the adapter's own type: in one pass when the adapter is an
// adapters.InboundRawDecoder (Telegram is), else through a generic
// event.Message and adapters.InboundDecoder. The adapter's own
// per-scope value (scope.Scope.SetAdapterValue) travels when it is a
// plain value (a string, []byte, bool, int64 or float64, as the IRC
// adapter's reply target is); a scope holding anything else is served by
// the process that took it, as connection-bound scopes are (adapters with
// scope.Config.NoEvict, Intake.DeliverInline): a WebSocket stays with its
// connection.
//
// Round trips: a Node sends the appends, reads and acknowledgements its
// goroutines have under way together, in one pipeline, and whatever comes
// meanwhile in the next; a lone call goes at once. On one Redis (or
// Sentinel) a Node waits for new entries of all its partitions in one
// XREAD BLOCK, on a connection of its own, and reads and acknowledges
// those with work in one script, which checks each partition's token: with
// many quiet partitions a wait and a read cost about what one busy
// partition's do. On Redis Cluster, where a command's keys share a slot,
// each owned partition waits, on a connection of its own, and is read
// alone.
//
// Outbound calls are made by the owner's own adapter instance: every
// process runs the same configuration.
//
// What else follows a partition's owner hears of it through
// Node.OnOwned, called when the Node starts serving a partition and when
// it begins to give it up: botserver receives the partition's
// conversation channels ("conv.<p>!...", see consumer.Conversations) from
// then until then. Partition is the hash that places a conversation, and
// MarshalScope and UnmarshalScope the facts an entry carries, which also
// start a conversation's scope again from what was kept of it.
package cluster
