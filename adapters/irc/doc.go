// Package irc connects bots to an IRC server, on ircevent
// (github.com/ergochat/irc-go), and is the worked example of
// docs/adapters.md.
//
//	irc:
//	  server: irc.libera.chat:6697
//	  tls: true            # ca_file: a PEM to trust a private server
//	  nick: switchbot
//	  sasl: {user: switchbot, password: ${IRC_PASSWORD}}  # or password: (PASS)
//	  channels: ["#switchboard", "#private key"]
//	  key_by: channel      # or channel_user
//	  flood: {burst: 5, interval: 2s}
//
// A conversation is a channel (with key_by channel_user, a user in a
// channel) or a private query. The adapter reconnects with backoff and
// rejoins; Serve fails only on a refused login (ErrLogin). IRC resends
// nothing, so a message for a full inbox, or not UTF-8, is dropped,
// counted and logged rather than stall the reader; a line longer than
// the protocol allows ends the connection, which is dialed again.
// NOTICEs, CTCP and the bot's own messages are never delivered. Send and
// Push take chat.say, the adapter's only outbound event.
package irc
