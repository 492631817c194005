// Package consumertest drives any application in-process, the way Django
// Channels' ApplicationCommunicator and WebsocketCommunicator do: build a
// scope, send the instance events, read what it sends with timeouts, assert
// that it sends nothing, and end the scope. Events go through a real
// scope.Manager, so tests exercise the same ordering, inbox and failure
// handling as production.
package consumertest
