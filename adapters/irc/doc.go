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
// rejoins its channels; Serve fails only on a refused login (ErrLogin).
// IRC acknowledges and resends nothing, so a message for a full inbox,
// or one that is not UTF-8, is dropped, counted and logged rather than
// stall the reader; a line longer than the protocol allows (512 bytes and
// 8 KiB of tags) ends the connection, which is dialed again. NOTICEs,
// CTCP and the bot's own messages are never delivered.
//
// Send and Push take chat.say, the adapter's only outbound event, to its
// To (a channel or a nick) or else the scope's own conversation. They cut
// text at newlines and at what the server relays in 512 bytes, on UTF-8
// boundaries, and pace it (Config.Flood). A refusal of the target (401,
// 403, 404...) returns an *adapters.RefusedError, and a link lost before
// the server confirmed the message fence.ErrLost.
package irc
