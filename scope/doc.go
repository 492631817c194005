// Package scope holds the facts of a connection or conversation (Scope),
// the contract every application meets (Application, Instance, Conn), and
// the scope manager that every chat adapter shares (Manager).
//
// # Why a factory and not a long-running call
//
// An ASGI application is a coroutine that runs for the scope's whole life.
// In Go the same shape, a method that serves a scope until it ends, holds a
// goroutine and its stack for every scope, busy or not; with chat
// conversations that stay open for minutes after their last message, a bot
// with a million conversations would hold a million parked goroutines.
// Switchboard's Application is instead a factory: NewInstance makes a small
// per-scope value once, and the manager calls its Handle method once per
// event. A worker goroutine serves a scope only while the scope has events
// queued and leaves it when the inbox is empty, so an idle scope is a few
// hundred bytes in a sharded map: no goroutine, no channel, no timer (one
// sweeper per manager ends idle scopes). A worker that left its scope
// waits up to 20 ms for the next scope with work, up to 64 of them per
// manager, so that a busy manager does not start a goroutine, and grow its
// stack again, for every event.
//
// Composition is unchanged by the choice: a router is an Application whose
// NewInstance asks an inner Application for the instance, and middleware is
// a func(Application) Application that may wrap the instance's Handle, in
// the way net/http's ServeMux and middleware compose Handlers.
//
// # Ordering contract
//
// One scope's events are handled one at a time, in arrival order; different
// scopes run in parallel. Messages a consumer receives from a channel layer
// enter through Conn.Post into the same inbox, so they are ordered with
// platform events. The protocol's disconnect event (a Final) is the last
// event an instance sees, and after it the instance may not send.
//
// A Handle that returns an error or panics ends only its own scope: the
// failure is logged with the scope and the event type, the instance gets its
// disconnect event with ReasonError, and later events for the same
// conversation, including any already queued, go to a new instance.
//
// # The bound on live scopes
//
// Config.MaxScopes bounds the live scopes of a Manager, and what happens to
// a new scope at the bound depends on the kind of scope. A chat
// conversation (Telegram, Slack, IRC, the console) is evictable: the least
// recently active idle one ends with ReasonEvicted to make room, and its
// next message starts a new scope. A connection (a WebSocket, an HTTP
// request) is not: its end would drop a live peer, so its adapter sets
// Config.NoEvict and a new scope at the bound fails with ErrTooManyScopes,
// which the adapter turns into a refusal of the new connection (the
// websocket adapter answers 503 before the upgrade).
//
// The package imports nothing of Switchboard but the event vocabulary.
package scope
