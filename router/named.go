package router

import (
	"context"
	"fmt"

	"github.com/switchboard-bots/switchboard/scope"
)

// ByProtocol returns an application that serves each scope with the
// application routes holds under the scope's Type ("websocket",
// "telegram", ...), like Channels' ProtocolTypeRouter. A scope of another
// protocol is refused with an error wrapping ErrNoRoute.
//
// routes is copied; an empty name or a nil application panics.
func ByProtocol(routes Routes) scope.Application {
	return newNamed("protocol", routes, func(s *scope.Scope) string { return s.Type })
}

// ByChannel returns an application that serves each worker scope with the
// application routes holds under the scope's Channel, like Channels'
// ChannelNameRouter. A scope for another channel is refused with an error
// wrapping ErrNoRoute.
//
// routes is copied; an empty name or a nil application panics.
func ByChannel(routes Routes) scope.Application {
	return newNamed("channel", routes, func(s *scope.Scope) string { return s.Channel })
}

// named picks an application by one exact field of the scope.
type named struct {
	kind   string
	routes map[string]scope.Application
	key    func(*scope.Scope) string
}

func newNamed(kind string, routes Routes, key func(*scope.Scope) string) *named {
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
	return &named{kind: kind, routes: m, key: key}
}

func (n *named) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	name := n.key(s)
	app, ok := n.routes[name]
	if !ok {
		return nil, fmt.Errorf("%w for %s %q", ErrNoRoute, n.kind, name)
	}
	return app.NewInstance(ctx, s, conn)
}
