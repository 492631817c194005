// Package irc connects bots to an IRC server. It is also the worked
// example of an adapter written against the public runtime alone: read it
// in this order to write one.
//
//	bots:
//	  irc:
//	    server: irc.libera.chat:6697
//	    tls: true            # ca_file: a PEM to trust a private server
//	    nick: switchbot
//	    sasl: {user: switchbot, password: ${IRC_PASSWORD}}  # or password: (PASS)
//	    channels: ["#switchboard", "#private key"]
//	    key_by: channel      # or channel_user
//	    flood: {burst: 5, interval: 2s}
//
// 1. Config and Factory (config.go). Factory decodes the adapter's section
// with Setup.Decode, which reports unknown keys with file and line; New
// checks the values and fills defaults. The server keeps enabled and
// scopes, and runs the adapter in an adapters.Host.
//
// 2. Serve (adapter.go) owns the platform's intake until its context
// ends: it dials, registers (SASL PLAIN, PASS, NICK, USER), joins every
// channel, calls Intake.Ready, and turns each PRIVMSG into a Message
// handed to Intake.TryDeliver under a conversation key: the channel (and
// the nick, with key_by channel_user), or the nick of a private message.
// The newScope function fills the Scope and stores, with
// SetAdapterValue, where replies go. When the connection drops, Serve
// reconnects with backoff (1 s doubling to 2 min, on an injectable clock)
// and rejoins; it returns an error only when the server refuses the
// login (ErrLogin). When its context ends it returns at once but leaves
// the connection up until Intake.Grace ends, so that the scopes' last
// replies still go out, then quits.
//
// IRC acknowledges nothing and resends nothing, so the adapter delivers
// without waiting: a conversation whose inbox is full loses the message
// (logged) rather than stall the reader, whose PONGs keep every other
// conversation connected. NOTICEs are never delivered, so a bot never
// answers one (RFC 2812 section 3.3.2); CTCP requests and the bot's own
// messages are skipped.
//
// 3. Send (send.go) turns outbound events into PRIVMSGs: irc.send (Send)
// and event.Say, the event every chat adapter understands. Text is cut at
// newlines and at the line length the server can relay (512 bytes with
// the ":nick!user@host" it adds, known once the server echoed the bot's
// JOIN), on UTF-8 boundaries and at spaces. A token bucket paces lines at
// RFC 1459's rate. IRC answers a message only when it refuses it, so Send
// follows its lines with a PING and waits for the PONG: the server
// handles a client's lines in order, so an error numeric about the
// target (401 no such nick, 403, 404 cannot send to channel) arrives
// before it, and Send returns it as a *adapters.RefusedError. Push sends
// an irc.send that names its target, for pushes through the layer.
//
// 4. Events (events.go): Message implements event.ChatMessage, so chat
// consumers and command routers serve IRC unchanged. The final event of
// a scope is the runtime's "irc.disconnect".
//
// 5. Tests start their own ngircd and pass the conformance kit,
// adapters/adaptertest, with a raw IRC client as the platform.
package irc
