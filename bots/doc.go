// Package bots holds Switchboard's built-in bots, one package each: small,
// complete consumers that show how bots are written and that botserver
// serves by name.
//
//   - echo: a chat bot for any chat protocol, the web page's WebSocket
//     included, that answers "You said: <text>".
//   - ping: a WebSocket consumer that answers "pong" a second after each
//     message, without delaying any other connection.
//   - wschat: a WebSocket chat consumer that welcomes "Anonymous", renames
//     with "/name", and echoes "name: text".
//   - room: a cross-protocol chat room over the channel layer: members on
//     the web page, Telegram, Slack and the console see each other.
//   - admin: an operator's WebSocket console on a path of its own.
//   - djangochat: chats that "/join <room>" talk in the chat rooms of a
//     Django Channels site (the Channels tutorial's) over a shared Redis.
package bots
