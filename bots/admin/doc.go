// Package admin is an operator's WebSocket console, served on a path of its
// own beside the public chat: "/announce <text>" speaks in a room as
// "admin", and "/help" lists the commands.
package admin
