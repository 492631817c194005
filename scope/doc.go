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
// sweeper per manager ends idle scopes).
//
// # Workers
//
// The workers are a pool of at most Config.Workers goroutines per manager
// (default 64). A scope that gets work takes a parked worker, or starts
// one while the pool has room, or else waits in a run queue, first come
// first served; a worker done with a scope takes the next one from the
// queue, so that its stack, grown to a handler's depth, serves again
// rather than a new goroutine growing one for every busy scope. A worker
// with nothing to do for 20 ms exits, so an idle manager holds none. Each
// scope is served by one worker at a time, which keeps its order; while
// scopes wait, a scope's turn ends after InboxSize events and it goes back
// to the end of the queue. Under full load, then, a manager holds its
// workers (and any stalled ones, below) however many scopes are busy: a
// WebSocket server holds a goroutine per connection (its read loop, which
// handles its own connection's messages: DeliverInline) and a constant.
//
// A pool that handlers could fill with calls that never return would stop
// every scope. So while scopes wait, a watchdog looks at the workers
// every Config.StallAfter (default 1 s); a worker found in the same
// handler at two looks in a row no longer counts against the bound, a new
// worker takes its place, and the replacement is logged and counted
// (Manager.WorkerStats). The stalled worker rejoins the pool when its
// handler returns, if there is room, or exits. Bots whose handlers wait
// on the network for long (a platform's API, a language model) should
// raise Workers, since a waiting handler holds its worker.
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
