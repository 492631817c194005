package adapters

import (
	"context"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Adapter is what an adapter's author writes: one platform's intake and
// its outbound calls. A Host runs it and keeps everything else: the scope
// manager, the lifecycle, readiness, pushes, acknowledgements and metrics.
type Adapter interface {
	// Name identifies the adapter in logs, metrics and Scope.Adapter.
	Name() string
	// Serve takes the platform's traffic and hands each inbound event to
	// in, until ctx ends (Shutdown began: stop taking new traffic, hand
	// over what was taken, and return nil) or the adapter fails for good
	// (return the error). The Host waits for Serve to return no longer
	// than Shutdown's context: in.Grace ends then.
	Serve(ctx context.Context, in *Intake) error
	// Send makes the platform call for an outbound event sent by the
	// instance serving s. A call the platform refuses returns a
	// *RefusedError.
	Send(ctx context.Context, s *scope.Scope, ev event.Event) error
}

// Disconnecter is implemented by adapters whose protocol has a disconnect
// event of its own type. Without it, a scope ends with a Disconnect whose
// type is "<protocol>.disconnect".
type Disconnecter interface {
	// Disconnect returns the final event of scope s, which ends for r.
	Disconnect(s *scope.Scope, r scope.Reason) scope.Final
}

// Ender is implemented by adapters that release something when a scope
// ends: Ended is called after the scope's final event was handled, or
// after its instance could not be made (err is then why).
type Ender interface {
	Ended(s *scope.Scope, r scope.Reason, err error)
}

// Protocols is implemented by adapters that serve scopes of protocols
// other than their name, or of several (WebSocket and HTTP): a server
// checks that every route's protocol is served by an adapter.
type Protocols interface {
	Protocols() []string
}

// Disconnect is the final event of an adapter with no disconnect event of
// its own: "<protocol>.disconnect" with the reason.
type Disconnect struct {
	Protocol string       `msgpack:"-"`
	Reason   scope.Reason `msgpack:"reason"`
}

// Type implements event.Event.
func (d Disconnect) Type() string { return d.Protocol + ".disconnect" }

// EndReason implements scope.Final.
func (d Disconnect) EndReason() scope.Reason { return d.Reason }

// Value returns the adapter's own value for s (see
// scope.Scope.SetAdapterValue) as a T, and whether it is one. A nil s, as
// an adapter's Push may pass to its Send, has none.
func Value[T any](s *scope.Scope) (T, bool) {
	var v T
	if s == nil {
		return v, false
	}
	v, ok := s.AdapterValue().(T)
	return v, ok
}
