package router

import "github.com/switchboard-bots/switchboard/scope"

// ProtocolReporter is implemented by applications that can tell whether
// they have anything to handle in a scope of a protocol (a Scope.Type
// such as "telegram"), so that a server can refuse, before it starts, a
// route that sends a protocol to a bot with no handler for it.
//
// Consumer types implement it (consumer.App.HandlesProtocol), and so do
// the routers and middleware of this package and its middleware package,
// which ask the applications they wrap or route to. Middleware of one's
// own that wraps an application should forward it; middleware made with
// EventMiddleware does.
type ProtocolReporter interface {
	HandlesProtocol(protocol string) bool
}

// HandlesProtocol reports whether app may serve scopes of protocol: what
// app says if it is a ProtocolReporter, and true otherwise, since an
// application that does not say might.
func HandlesProtocol(app scope.Application, protocol string) bool {
	if r, ok := app.(ProtocolReporter); ok {
		return r.HandlesProtocol(protocol)
	}
	return true
}

// HandlesProtocol implements ProtocolReporter: whether any route's
// application handles protocol.
func (r *PathRouter) HandlesProtocol(protocol string) bool {
	if r.t == nil {
		return false
	}
	for _, rt := range r.t.routes {
		if HandlesProtocol(rt.app, protocol) {
			return true
		}
	}
	return false
}

// HandlesProtocol implements ProtocolReporter: whether any command's
// application, or the fallback, handles protocol.
func (r *CommandRouter) HandlesProtocol(protocol string) bool {
	if r.t == nil {
		return false
	}
	if r.t.fallback != nil && HandlesProtocol(r.t.fallback, protocol) {
		return true
	}
	for _, app := range r.t.apps {
		if HandlesProtocol(app, protocol) {
			return true
		}
	}
	return false
}

var (
	_ ProtocolReporter = (*PathRouter)(nil)
	_ ProtocolReporter = (*CommandRouter)(nil)
	_ ProtocolReporter = (*named)(nil)
)
