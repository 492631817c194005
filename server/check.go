package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// protocolHandler is implemented by applications that can say which
// protocols they have handlers for; a bot routed to a protocol it does not
// handle is a config error. Applications without it are not checked.
type protocolHandler interface {
	HandlesProtocol(protocol string) bool
}

// checkRoutes checks the routes against the adapters and bots they join:
// every route's protocol is served by a configured adapter, every bot
// handles the protocol it is routed to, and the WebSocket adapter's chat
// page connects to a routed path.
func (s *Server) checkRoutes(reg *Registry, bots []routedBot) []error {
	c := s.cfg
	var errs []error
	served := s.servedProtocols()
	for _, proto := range slices.Sorted(maps.Keys(c.Routes)) {
		if _, ok := served[proto]; ok {
			continue
		}
		names := slices.Sorted(maps.Keys(served))
		known := slices.Concat(names, knownProtocols, reg.AdapterKinds())
		errs = append(errs, c.errorAt("routes."+proto, fmt.Errorf(
			"routes.%s: no adapter serves %q scopes (served: %s)%s: correct the protocol's name, or configure the adapter that serves it",
			proto, proto, strings.Join(names, ", "), didYouMean(proto, known))))
	}
	for _, b := range bots {
		h, ok := b.app.(protocolHandler)
		if !ok || h.HandlesProtocol(b.proto) {
			continue
		}
		errs = append(errs, c.errorAt(b.key, fmt.Errorf(
			"%s: bot %q has no handlers for %s scopes: route %s to a bot that handles them, or give %q handlers for %s events",
			b.key, b.name, b.proto, b.proto, b.name, b.proto)))
	}
	if err := c.checkPage(reg); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// servedProtocols returns the protocols the config's adapters serve,
// enabled or not: a route to the protocol of an adapter turned off
// (enabled: false) is a route waiting for it, not a mistake. "channel" is
// always served, by `botserver worker` processes if not by this one.
func (s *Server) servedProtocols() map[string]struct{} {
	c := s.cfg
	served := map[string]struct{}{"channel": {}}
	add := func(protos ...string) {
		for _, p := range protos {
			served[p] = struct{}{}
		}
	}
	if c.WebSocket != nil {
		add("websocket", "http")
	}
	if c.Telegram != nil {
		add("telegram")
	}
	if c.Slack != nil {
		add("slack")
	}
	if c.Console != nil {
		add("console")
	}
	built := map[string]bool{}
	for _, a := range s.adapters {
		if h, ok := a.(*adapters.Host); ok {
			add(h.ServedProtocols()...)
			built[h.Name()] = true
		}
	}
	for name, sec := range c.Adapters {
		if !built[name] {
			// Not built (off, or in a worker process): its kind names the
			// protocol it would serve.
			add(sec.Kind)
		}
	}
	return served
}

// knownProtocols are the protocols of the built-in adapters, for
// suggestions when a route names none that is served.
var knownProtocols = []string{"websocket", "http", "telegram", "slack", "console", "channel"}

// errPageProbe is what the probe bot answers: the path reached a bot.
var errPageProbe = errors.New("page probe")

// checkPage checks that the WebSocket adapter's chat page connects to a
// path that a websocket route serves.
func (c *Config) checkPage(reg *Registry) error {
	w := c.WebSocket
	if w == nil || !enabled(w.Enabled) || w.PagePath == "" {
		return nil
	}
	sock := cmp.Or(w.PageSocket, websocket.DefaultPageSocket)
	key := "websocket.page_socket"
	if c.lines[key] == 0 {
		key = "websocket.page_path"
	}
	fix := fmt.Sprintf("add {path: %q, bot: ...} under routes.websocket.paths, or set page_socket to a routed path (page_path: \"\" serves no page)", sock)
	r := c.Routes["websocket"]
	if r == nil {
		return c.errorAt(key, fmt.Errorf("websocket: the chat page at %q connects to %q, but no route serves websocket scopes: %s", w.PagePath, sock, fix))
	}
	probe := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return nil, errPageProbe
	})
	b := &routeBuilder{reg: reg, file: c.file(), lines: c.lines, probe: probe}
	app := b.build("routes.websocket", r)
	if app == nil || len(b.errs) > 0 {
		return nil // the route's own errors are reported where it is built
	}
	_, err := app.NewInstance(context.Background(), &scope.Scope{Type: "websocket", Path: sock}, nil)
	if errors.Is(err, router.ErrNoRoute) {
		return c.errorAt(key, fmt.Errorf("websocket: the chat page at %q connects to %q, which no websocket route serves: %s", w.PagePath, sock, fix))
	}
	return nil
}

// sortErrors joins errs, flattened, with the ConfigErrors in the order of
// their lines, so that a report reads like the file.
func sortErrors(errs []error) error {
	var flat []error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if err != nil {
			flat = append(flat, err)
		}
	}
	for _, err := range errs {
		walk(err)
	}
	slices.SortStableFunc(flat, func(a, b error) int {
		ca, aok := a.(*ConfigError)
		cb, bok := b.(*ConfigError)
		switch {
		case aok && bok:
			return cmp.Or(cmp.Compare(ca.File, cb.File), cmp.Compare(ca.Line, cb.Line))
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	return errors.Join(flat...)
}
