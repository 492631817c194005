// Package redis is a channel layer on Redis that speaks the wire format of
// channels_redis 4.x, the Redis layer of Django Channels, so that a Django
// Channels site and Switchboard bots configured with the same Redis and
// prefix can send to each other's channels and groups.
//
// # Storage
//
// The key layout is channels_redis': a channel's messages live in the
// sorted set prefix+name, scored by send time in seconds, each member being
// 12 random bytes followed by the message as a MessagePack map; a
// process-local channel ("specific.abc!xyz") is stored under its name cut
// after the "!" ("specific.abc!"), shared by every channel the process made
// with that prefix (or, for a prefix a process claimed with Claim, every
// channel of the prefix), and its messages carry the full name in the
// "__asgi_channel__" field; a group is the sorted set prefix+":group:"+name
// of its members, scored by the time each joined. Capacity and expiry
// follow the same rules: a send fails when the channel holds its capacity
// of unexpired messages (counted as described below), messages older than the expiry are dropped, keys
// expire after the expiry of their newest message or membership, and a
// group send skips full members, counting and logging each skipped
// delivery (see WithSkipObserver). The key of a process's process-local
// channels serves all of them, so it holds 100 times a channel's capacity
// (localKeyScale); each channel's own bound is kept by the receiving
// process. A message popped for a process-local
// channel that nobody in the process is receiving from at that moment is
// kept in memory for it, until a receive takes it or it expires: a
// channel whose consumer has ended holds nothing beyond the expiry.
//
// # Round trips and commands
//
// channels_redis spends ten commands on a message: four per send (drop
// expired messages, count, add, set the time to live) and six per
// receive. Here a send is one round trip, and most sends are one command:
// a process counts a channel only when the room its last count left is
// used up (half the free places it saw), and a busy channel's time to
// live is set once per key every 100 ms by a refresh loop rather than
// with every add. A counted send is one Lua script that counts, adds and
// sets the time to live, four commands in all. So a channel that gets
// more than one send every 100 ms costs about one command per send, and
// a quieter one two (ZADD and PEXPIRE) plus the counted sends. One process
// never overfills a channel; several may, by up to half the free places
// each saw, as channels_redis' own count-then-add check also lets a
// channel "leak slightly over capacity". Config.ExactCapacity counts every
// send instead. A key re-created by an add without a time to live gets
// one within 100 ms, or from Close; a process that dies in between leaves
// that key until it is received from.
//
// A group send on one server is one script call that reads the members
// and writes a copy into each member's key (one copy per process for
// process-local members), however large the group. The group sends a
// process makes while its previous call is on its way go together in the
// next, up to 256 a call: one round trip for them all, each group read,
// each key counted and given its time to live once per call, and each
// key's copies added with one ZADD. A lone send goes at once, so batching
// costs nothing when there is nothing to batch. QueueGroupSend (see
// layer.QueuedGroupSender) puts a send in the next call and returns
// without waiting for it, so that a consumer relaying a stream of
// messages is not held to a round trip per message; a caller's sends,
// queued or not, are made in the order it made them. A receive that finds
// a message waiting in an ordinary channel takes it with one
// non-blocking pop (ZPOPMIN); otherwise it waits on one blocking pop,
// plus one more call only when the popped message had expired. Blocking
// pops run in one receive loop per key and process, which hands messages
// to waiting receivers, or to subscribers (Subscribe): the process-local
// channels of a process's consumers are served by that one loop, which
// pops up to 1,024 messages a round trip, blocking (BZMPOP; on Redis
// before 7.0 a BZPOPMIN, then ZPOPMIN for the rest), so
// the shared key drains at Redis' speed, and hands the channels one
// group message names the message decoded once. go-redis cannot abandon a blocking call when a
// context ends, so the loop blocks for at most Config.BlockTime at a
// time, on connections of its own; Receive returns as soon as its context
// ends or the layer closes, and a message the loop popped for a receiver
// that left goes back to its key with its old score. The non-blocking
// pop runs beside Receive: when the context ends, Receive still takes
// what it brings if it answers within 50 ms, as a server that answers
// does; otherwise Receive returns, and the message it brings back later
// goes back to its key.
//
// # Deployments
//
// Config.Mode names the deployment: one server (single), several servers
// that names are spread over (shards), a master found through Redis
// Sentinel (sentinel) or Redis Cluster (cluster). In cluster mode the
// name part of every key is a hash tag, and a group send reads the
// members, then writes each member's key with its own script call,
// pipelined by node, since one script may only touch one slot. Talking
// to channels_redis works in single, sentinel and shards mode;
// channels_redis cannot run on Cluster.
//
// # Shards
//
// In shards mode a name goes to a server by Config.Hash. The default,
// crc32, is channels_redis' consistent_hash: the low 12 bits of the
// name's CRC-32, a point on a ring of 4096 cut into as many equal arcs as
// there are servers. A group lives on the server of its name, and every
// channel's messages on the server of its key's name (a process-local
// channel's name up to its "!"), which is where channels_redis' group
// send writes them and where its receive reads a process-local channel:
// a Django Channels site that lists the same servers in the same order
// shares groups and channels with Switchboard.
//
// channels_redis 4.0 disagrees with itself in two places, which the
// layer works around rather than copies. Its send to a plain channel
// goes to the next server of a round robin kept per process, and its
// receive of a plain channel blocks on the next server of another round
// robin until something arrives there (django/channels_redis#43 made
// both cycle): a Django worker reading a plain channel may wait on one
// server while messages sit on the other, whoever sent them. And its
// send to a process-local channel hashes the full name, while the owner
// reads the server of the name up to the "!", so with several servers
// such a send reaches its channel only when both hash alike
// (django/channels_redis#94, #221). Switchboard always sends to the
// server of the key's name, and with crc32 its receive loops read their
// key on every server at once, so that what a Django process sends
// reaches a Switchboard receiver whichever server it went to; messages a
// Django process sends one channel over several servers may arrive out
// of order, as they do in channels_redis.
//
// The other placement, jump, is jump consistent hash over xxhash64, for
// deployments without channels_redis: adding an (n+1)th server moves
// 1/(n+1) of the names to it, where CRC-32's arcs move about half
// (measured: 49% from two servers to three, 50% from three to four, 49%
// from eight to nine, against 33%, 25% and 12% for jump), and its receive
// loops read only the server of their key. Placing a name costs well
// under a microsecond either way.
//
// The tests run the layer's conformance suite on each mode against real
// servers: a Redis Cluster of three masters, restarted whole in the
// middle, and a master with a replica and a sentinel, switched over in the
// middle. Beside the suite, a group send reaches members in slots on every
// node, channels in use lose nothing while their slots move to another
// master (go-redis follows the ASK and MOVED replies), and a master killed
// outright is replaced by its replica, both
// behind a sentinel and in a cluster of three masters with a replica
// each: until the replica is promoted operations fail with
// ErrUnavailable, then receive loops resume on the new master by
// themselves and sends succeed again. A cluster client reloads its map of
// slots as soon as a node cannot be reached, rather than once a minute as
// go-redis would, so the new master is used within moments of its
// promotion. Replication is asynchronous, so a failover keeps only what
// the replica had received: a message Redis acknowledged just before its
// master died may be lost with it.
//
// # Faults
//
// Operations that cannot reach Redis fail with errors wrapping
// ErrUnavailable and naming the channel or group. Every operation ends
// when its context does, whatever Redis does: the command connections
// end a call at the context's deadline (go-redis' ContextTimeoutEnabled),
// and the error of a call cut short wraps the context's error too. A
// Receive that waits cannot tell a quiet channel from a stalled server by
// its blocking pop, which both leave unanswered; so when the server has
// answered nothing since the wait began, after 100 ms of it (or half what
// the context allows, if less) the Receive pings it (one ping at a time
// per server, none while it answers other calls), and if its context
// ends while the ping has gone unanswered for 50 ms, or after it failed,
// the error wraps ErrUnavailable. A send cut short may still arrive: Redis may
// have run it without its answer getting back in time. Commands are not retried
// by the client, since a send whose reply was lost may have been executed
// and the layer delivers at most once; deliveries are marked so that not
// even a cluster client, which resends on its own, or a client given by
// WithClient sends them twice. Receive loops retry with backoff
// until Redis answers again; a Receive whose context ends meanwhile returns
// the context's error together with the last Redis error. Nothing Redis
// acknowledged is lost by the layer; whether Redis keeps it across a crash
// depends on its persistence settings (appendonly).
//
// # Values
//
// Messages are MessagePack maps, as channels_redis writes them, and Send
// and GroupSend refuse, with ErrNotPortable and the path of the field,
// what Python's msgpack as channels_redis calls it cannot read: a map key
// that is not a string (strict map keys), a string that is not UTF-8
// (raw=False raises UnicodeDecodeError), and any extension type, a
// time.Time included, which Python hands over as an opaque
// msgpack.Timestamp or ExtType. Times are refused, not converted to RFC
// 3339 text: Go's msgpack decodes a time.Time field only from the
// timestamp extension, so text would break every Go receiver of a struct
// with a time.Time field, and channels_redis itself refuses datetimes.
// Send a time as text (t.UTC().Format(time.RFC3339Nano)), which Python
// reads as a str and Go into a string field, or as Unix seconds.
//
// # Leases
//
// Lease (from Layer.Lease or NewLease) is an expiring lock with one owner,
// the Telegram adapter's Lease for electing the one process that polls a
// bot. Acquire is SET NX PX, Renew and Release compare the owner and
// PEXPIRE or DEL in one script. A lease lives in prefix+":lease:{h}",
// where h is the hex SHA-256 of the name it was asked for, so that a name
// such as a bot token is never stored; the braces make the hash the key's
// hash tag, which only matters to Cluster.
//
// # Encryption
//
// With Config.EncryptionKeys, payloads are sealed with AES-256-GCM under
// the first key, and opened with whichever key works, so that keys can be
// rotated. The sealed form is this package's own: channels_redis uses
// Fernet, so encrypted layers cannot talk to it.
package redis
