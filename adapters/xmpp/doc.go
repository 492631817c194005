// Package xmpp connects bots to an XMPP (Jabber) server as a client:
// one-to-one chats and multi-user chat rooms (XEP-0045).
//
//	xmpp:
//	  jid: bot@example.org/switchboard
//	  password: ${XMPP_PASSWORD}
//	  server: xmpp.example.org:5222   # default: the domain's SRV records
//	  ca_file: ""                     # a PEM to trust a private server
//	  rooms: [go@rooms.example.org, "ops@rooms.example.org/opsbot"]
//	  nick: switchbot                 # default: the JID's localpart
//	  ping_interval: 1m
//	  max_message: 8192
//
// # Connection
//
// Serve dials the server, negotiates STARTTLS (required: a server that
// offers no TLS gets no password), logs in with SASL (SCRAM-SHA-256,
// SCRAM-SHA-1, or PLAIN inside TLS: the first both sides have), binds
// a resource, sends its presence, joins every room and calls
// Intake.Ready. When the stream drops, or a ping (XEP-0199, every
// ping_interval) goes unanswered, it reconnects with backoff (1 s
// doubling to 2 min, on the Host's clock: adapters.WithClock) and joins
// the rooms again.
// It returns an error only when the server refuses the credentials
// (ErrLogin). A nick taken in a room is tried again with "_" appended; a
// room that refuses the bot, or kicks it, is left until the next
// connection. No log line, error or %v shows the password: it is a
// Secret.
//
// # Conversations
//
// Each room is one conversation, keyed by the room's bare JID; each
// one-to-one correspondent is one, keyed by their bare JID; a private
// message from a room's occupant is a conversation with that occupant
// (room@service/nick). Messages become Message events, which implement
// event.ChatMessage, so chat consumers and command routers serve XMPP
// unchanged.
//
// A room replays its history to whoever joins. The adapter asks for none
// (maxstanzas="0") and drops any message that carries a delay element
// (XEP-0203) anyway, so that a bot rejoining after a reconnection never
// answers again what it answered before. The bot's own messages, which
// the room reflects, are dropped by its nick. Messages without a body
// (chat states, receipts, a room's subject) and headlines are not chat
// and are not delivered. One-to-one messages stored while the bot was
// offline carry a delay too, and are delivered: the bot never saw them.
//
// # Sending
//
// Send understands event.Say, Send (xmpp.send: to a room the bot is in,
// a groupchat message; to anyone else, a chat message) and ChatState
// (xmpp.chat_state, XEP-0085 chat states such as "composing": typing
// notifications are XMPP's chat action). A text longer than max_message
// goes as several messages, cut at line ends. XMPP answers a message
// only when it bounces it, so Send follows its messages with a ping to
// the server: the server handles a client's stanzas in order, so a
// bounce from the server or one of its rooms (service-unavailable: no
// such account, or the user blocked the bot; forbidden: the bot may not
// speak in the room; item-not-found: no such room) arrives before the
// answer, and Send returns it as a *adapters.RefusedError. A bounce from
// another server may come later; it is logged. Push sends an xmpp.send
// or xmpp.chat_state that names its To, for pushes through the layer
// (push.<name>).
//
// # Acknowledgement
//
// XMPP has no acknowledgement of inbound messages (Stream Management,
// XEP-0198, is an extension the adapter does not negotiate), and the
// server sends nothing twice. So the adapter acknowledges nothing, and a
// message received but not yet handled when the process dies is lost.
// It delivers without waiting: a conversation whose inbox is full loses
// the message (logged, with a running count) rather than stall the
// stream that every other conversation and every Send's confirmation
// read from: raise scopes.inbox_size for a room that bursts.
//
// # The library
//
// The adapter stands on mellium.im/xmpp, chosen over the other Go XMPP
// libraries:
//
//   - mellium.im/xmpp takes a context on every blocking call (dial,
//     negotiation, Send, IQs), needs a secure stream before SASL by
//     construction, speaks SCRAM through mellium.im/sasl, and comes with
//     typed JIDs, stanzas, stanza errors and pings. Its muc package is
//     not used: its client blocks the stream's reader when the room sends
//     an unavailable presence nobody waits for (a kick) and never fails a
//     join that the room refuses, so the adapter joins rooms with its own
//     presence (XEP-0045 7.2) and reads the room's answer itself.
//   - github.com/xmppo/go-xmpp is released often and has STARTTLS,
//     SCRAM and helpers to join rooms, but takes no context anywhere:
//     Recv blocks until the connection closes, stanzas come back as any,
//     and a join cannot learn that a room refused it.
//   - gosrc.io/xmpp has had no release since 2020 and logs in with SASL
//     PLAIN only.
//
// Package xmpptest starts a real prosody for the tests, which pass the
// conformance kit, adapters/adaptertest.
package xmpp
