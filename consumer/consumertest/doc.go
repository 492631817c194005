// Package consumertest drives any application in-process, the way Django
// Channels' ApplicationCommunicator and WebsocketCommunicator do: build a
// scope, send the instance events, read what it sends with timeouts, assert
// that it sends nothing, and end the scope. Events go through a real
// scope.Manager, so tests exercise the same ordering, inbox and failure
// handling as production.
//
// NewWebSocket drives a WebSocket connection, HTTPRequest one HTTP
// exchange, and NewChat a chat conversation as a chat adapter would: the
// user says messages, and the test tells the bot's answers (Reply) from
// what it says in the conversation (event.Say).
package consumertest
