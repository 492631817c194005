package router

import (
	"context"
	"fmt"

	"github.com/switchboard-bots/switchboard/scope"
)

// Option configures ByProtocol and ByChannel.
type Option func(*named)

// Fallback serves the scopes that no route names with app (a protocol,
// or a channel, not listed), instead of refusing them with ErrNoRoute.
// A nil app panics.
func Fallback(app scope.Application) Option {
	if app == nil {
		panic("router: nil fallback application")
	}
	return func(n *named) { n.fallback = app }
}

// ByProtocol returns an application that serves each scope with the
// application routes holds under the scope's Type ("websocket",
// "telegram", ...), like Channels' ProtocolTypeRouter. A scope of another
// protocol goes to the Fallback option's application, or is refused with
// an error wrapping ErrNoRoute when there is none.
//
// routes is copied; an empty name or a nil application panics.
func ByProtocol(routes Routes, opts ...Option) scope.Application {
	return newNamed("protocol", routes, func(s *scope.Scope) string { return s.Type }, opts)
}

// ByChannel returns an application that serves each worker scope with the
// application routes holds under the scope's Channel, like Channels'
// ChannelNameRouter. A scope for another channel goes to the Fallback
// option's application, or is refused with an error wrapping ErrNoRoute
// when there is none.
//
// routes is copied; an empty name or a nil application panics.
func ByChannel(routes Routes, opts ...Option) scope.Application {
	return newNamed("channel", routes, func(s *scope.Scope) string { return s.Channel }, opts)
}

// named picks an application by one exact field of the scope.
type named struct {
	kind     string
	routes   map[string]scope.Application
	fallback scope.Application // nil: refuse
	key      func(*scope.Scope) string
}

func newNamed(kind string, routes Routes, key func(*scope.Scope) string, opts []Option) *named {
	m := make(map[string]scope.Application, len(routes))
	for name, app := range routes {
		if name == "" {
			panic(fmt.Sprintf("router: empty %s name", kind))
		}
		if app == nil {
			panic(fmt.Sprintf("router: nil application for %s %q", kind, name))
		}
		m[name] = app
	}
	n := &named{kind: kind, routes: m, key: key}
	for _, o := range opts {
		if o == nil {
			panic("router: nil option")
		}
		o(n)
	}
	return n
}

func (n *named) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	name := n.key(s)
	app, ok := n.routes[name]
	if !ok {
		if n.fallback == nil {
			return nil, fmt.Errorf("%w for %s %q", ErrNoRoute, n.kind, name)
		}
		app = n.fallback
	}
	return app.NewInstance(ctx, s, conn)
}

// HandlesProtocol implements ProtocolReporter. A protocol router asks the
// application it would pick for protocol; a channel router, whose routes
// all serve the same worker protocol, asks whether any of its
// applications handles it.
func (n *named) HandlesProtocol(protocol string) bool {
	if n.kind == "protocol" {
		if app, ok := n.routes[protocol]; ok {
			return HandlesProtocol(app, protocol)
		}
		return n.fallback != nil && HandlesProtocol(n.fallback, protocol)
	}
	if n.fallback != nil && HandlesProtocol(n.fallback, protocol) {
		return true
	}
	for _, app := range n.routes {
		if HandlesProtocol(app, protocol) {
			return true
		}
	}
	return false
}
