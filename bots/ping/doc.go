// Package ping is a WebSocket consumer that answers each message with
// "pong" after a delay. The delay blocks only its own connection: other
// connections are served meanwhile, which is what the bot demonstrates.
package ping
