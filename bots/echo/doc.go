// Package echo is a chat bot that answers every message with
// "You said: <text>", on whatever chat protocol the message came from.
package echo
