package scope

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/event"
)

// Application serves scopes. Routers, middleware and consumers are all
// Applications, and each wraps or picks others: a router's NewInstance
// chooses an inner Application by the scope and returns that one's
// Instance; a middleware's wraps the Instance it gets from the next.
//
// NewInstance is called once per scope, before its first event, and may
// refuse the scope by returning an error (no route matched, the user is not
// allowed): the adapter then rejects the connection or drops the
// conversation, and the error is logged with the scope.
//
// NewInstance must not keep ctx: it is only valid for the call.
type Application interface {
	NewInstance(ctx context.Context, s *Scope, conn Conn) (Instance, error)
}

// ApplicationFunc lets an ordinary function serve as an Application.
type ApplicationFunc func(ctx context.Context, s *Scope, conn Conn) (Instance, error)

// NewInstance calls f.
func (f ApplicationFunc) NewInstance(ctx context.Context, s *Scope, conn Conn) (Instance, error) {
	return f(ctx, s, conn)
}

// Instance is one application instance serving one scope.
//
// The scope manager calls Handle once per event, one call at a time, in the
// order the events arrived; instances of different scopes run in parallel.
// Between events no goroutine is held for the instance, which is why an idle
// scope costs only its memory. Blocking in Handle (a database call, a
// timer) delays only this scope.
//
// The last event an instance sees is its protocol's disconnect event, which
// implements Final. After Handle returns for it, the instance must not use
// its Conn again.
//
// A Handle that returns an error or panics ends the scope: the manager logs
// the failure with the scope and the event type, delivers the disconnect
// event with ReasonError so that the instance can release what it holds,
// and serves the next event for the same conversation with a new instance.
type Instance interface {
	Handle(ctx context.Context, ev event.Event) error
}

// HandlerFunc lets an ordinary function serve as an Instance.
type HandlerFunc func(ctx context.Context, ev event.Event) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev event.Event) error { return f(ctx, ev) }

// Conn is an instance's link to the rest of the system, given to
// NewInstance. It stays valid until the instance's final event returns.
type Conn interface {
	// Send hands an outbound event (websocket.send, telegram.send, ...) to
	// the adapter that owns the scope. It may block to apply the
	// adapter's backpressure or rate limits, until ctx ends.
	Send(ctx context.Context, ev event.Event) error
	// Post queues ev for this same instance, after the events already
	// queued: how channel layer messages and the results of work done on
	// other goroutines re-enter the scope in order. It blocks while the
	// inbox is full, until ctx ends, and fails with ErrEnded once the
	// scope has ended.
	Post(ctx context.Context, ev event.Event) error
}

// TryPoster is implemented by the Conn the scope manager gives instances:
// Post without waiting, for code that must not block, such as a channel
// layer delivering from its one receiver to many scopes.
type TryPoster interface {
	// TryPost queues ev like Post, or fails at once with ErrInboxFull
	// when the inbox is full, or ErrEnded once the scope has ended.
	TryPost(ev event.Event) error
}

// Reason says why a scope ended. It travels in the protocol's disconnect
// event. It is event.Reason, which the event packages use without
// importing scope.
type Reason = event.Reason

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

// Final is implemented by every protocol's disconnect event: the last event
// an instance sees. Generic code (consumers leaving their groups, logging
// middleware) recognises the end of a scope by it, whatever the protocol.
type Final interface {
	event.Event
	EndReason() Reason
}

// Errors the scope manager returns. Test for them with errors.Is.
var (
	// ErrClosed: the manager is shutting down or closed and takes no new
	// events.
	ErrClosed = errors.New("scope: manager closed")
	// ErrPeerGone is wrapped by an adapter's error for a send to a peer
	// that went away (a WebSocket client that closed or vanished): the
	// scope ends as it would have anyway, nothing broke, and the manager
	// logs it at Debug rather than as a failure.
	ErrPeerGone = errors.New("scope: peer gone")
	// ErrEnded: the scope has ended; Post no longer queues events.
	ErrEnded = errors.New("scope: scope ended")
	// ErrTooManyScopes: the bound on live scopes is reached and no idle
	// scope can be evicted, because every live scope is busy or the
	// manager's scopes are not evictable (Config.NoEvict).
	ErrTooManyScopes = errors.New("scope: too many live scopes")
	// ErrInboxFull: TryDeliver or TryPost found the scope's inbox full.
	ErrInboxFull = errors.New("scope: inbox full")
	// ErrNotHandled is wrapped by the error an Ack gets for an event that
	// will not be handled in this process: the adapter must not
	// acknowledge it to its platform, which will then send it again.
	ErrNotHandled = errors.New("scope: event not handled")
)

// Ack is told once what became of an event given to Manager.DeliverAck:
// nil once its handler returned, or an error wrapping ErrNotHandled.
type Ack func(err error)
