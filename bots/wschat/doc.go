// Package wschat is a WebSocket chat consumer: it welcomes a new client as
// "Anonymous", lets it pick a name with "/name <name>", and echoes every
// other message as "<name>: <text>".
package wschat
