// Package router picks the application that serves a scope.
//
// Routers and middleware are applications themselves, the way net/http's
// ServeMux is a Handler: a router's NewInstance looks at the scope once,
// chooses an inner application, and returns that application's instance
// unchanged. Nothing of the router stays between an instance and its
// events, so routing costs once per scope, never per event, and routers
// nest freely: a protocol router hands websocket scopes to a path router,
// which mounts another path router under a prefix, whose routes are wrapped
// in middleware.
//
// The exception is CommandRouter. A chat conversation is one scope that
// carries many commands, so it has to route each message, and it keeps one
// sub-instance per command it has seen.
//
// Routes are registered before serving and never changed afterwards, so a
// mistake in the wiring (a malformed pattern, a duplicate route, a nil
// application) panics at startup naming the route, while a scope that
// matches no route is refused at run time with an error wrapping
// ErrNoRoute (event.ErrNoRoute, which adapters test for). ByProtocol and
// ByChannel take a Fallback for the names they do not list.
//
// A route that sends a protocol to a bot with no handler for it is found
// before any scope starts: HandlesProtocol asks the application, which
// answers if it is a ProtocolReporter. Consumer types are, and so are the
// routers and the middleware here, which ask what they route to or wrap.
//
// Middleware is a func(scope.Application) scope.Application, composed with
// Chain and With. Most middleware works per event, and EventMiddleware
// writes it as one function per scope that returns the scope's event
// handler.
package router
