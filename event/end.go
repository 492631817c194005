package event

import "errors"

// Reason says why a scope ended. It travels in every protocol's disconnect
// event, so it belongs to the shared vocabulary; scope.Reason is the same
// type.
type Reason string

// The reasons the scope manager and the built-in adapters use. Adapters may
// add their own.
const (
	// ReasonIdle: no event arrived within the idle timeout.
	ReasonIdle Reason = "idle"
	// ReasonShutdown: the process is stopping.
	ReasonShutdown Reason = "shutdown"
	// ReasonEvicted: the bound on live scopes forced the least recently
	// active idle scope out to make room for a new one.
	ReasonEvicted Reason = "evicted"
	// ReasonError: the instance failed (returned an error or panicked).
	ReasonError Reason = "error"
	// ReasonClosed: the peer closed the connection or the adapter ended
	// the conversation.
	ReasonClosed Reason = "closed"
)

// ErrNoRoute is wrapped by the error with which an application refuses a
// scope, or an event, that nothing in it serves: no protocol, path, channel
// or command route matched. Routers return it (router.ErrNoRoute is the
// same value) and adapters test for it with errors.Is to answer in their
// protocol's words, such as HTTP 404, without importing a router.
var ErrNoRoute = errors.New("router: no route")
