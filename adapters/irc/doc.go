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
// A conversation is a channel, a user in one (key_by: channel_user) or a
// private query. IRC resends nothing: a message for a full inbox, or not
// UTF-8, is dropped (adapters.Intake.Drop), and a line longer than the
// protocol allows ends the connection, which is dialed again. NOTICEs,
// CTCP and the bot's own messages are never delivered; chat.say is the
// only outbound event.
package irc
