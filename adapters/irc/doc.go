// Package irc connects bots to an IRC server, and is the worked example
// of docs/adapters.md: an adapter written against the public runtime
// alone, on its shared pieces (reconnect, throttle, lines, fence).
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
// A conversation is a channel (with key_by channel_user, a user in a
// channel) or a private query. The protocol is ircevent's
// (github.com/ergochat/irc-go): registration, CAP and SASL, nick
// collisions, PING and keepalive. The adapter drives one of its
// connections per dial of a reconnect.Link, which keeps it up with
// backoff; the channels are rejoined, and Serve fails only on a refused
// login (ErrLogin). IRC acknowledges and resends nothing, so a message for a
// full inbox, or one that is not UTF-8, is dropped, counted and logged
// rather than stall the reader; a line longer than the protocol allows
// (512 bytes and 8 KiB of tags) ends the connection, which is dialed
// again. NOTICEs, CTCP and the bot's own messages are never delivered.
//
// Send takes irc.send (Send) and chat.say: text is cut at newlines and at
// what the server can relay in 512 bytes, on UTF-8 boundaries, paced at
// RFC 1459's rate, then fenced by a PING: an error numeric about the
// target (401, 403, 404) arrives before its PONG and Send returns it as a
// *adapters.RefusedError.
package irc
