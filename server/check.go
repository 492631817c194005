package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
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
// every route's protocol is served by a configured adapter, every adapter
// has a route for one of its protocols, every bot handles the protocol it
// is routed to, and what an adapter's own clients open (the web chat
// page's socket) reaches a route.
func (s *Server) checkRoutes(reg *Registry, bots []routedBot) []error {
	c := s.cfg
	var errs []error
	served := s.servedProtocols(reg)
	for _, proto := range slices.Sorted(maps.Keys(c.Routes)) {
		if _, ok := served[proto]; ok {
			continue
		}
		names := slices.Sorted(maps.Keys(served))
		known := slices.Concat(names, reg.AdapterKinds())
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
	for _, h := range s.adapters {
		protos := s.protos[h.Name()]
		if !slices.ContainsFunc(protos, func(p string) bool { return c.Routes[p] != nil }) {
			errs = append(errs, c.errorAt(h.Name(), missingRoute(h.Name(), protos)))
		}
		if n, ok := h.Adapter().(adapters.RouteNeeder); ok {
			for _, need := range n.NeededRoutes() {
				errs = append(errs, s.checkNeed(reg, h.Name(), need)...)
			}
		}
	}
	return errs
}

// servedProtocols returns the protocols the config's adapters serve,
// enabled or not: a route to the protocol of an adapter turned off
// (enabled: false) is a route waiting for it, not a mistake. "channel" is
// always served, by `botserver worker` processes if not by this one.
func (s *Server) servedProtocols(reg *Registry) map[string]struct{} {
	served := map[string]struct{}{"channel": {}}
	add := func(protos ...string) {
		for _, p := range protos {
			served[p] = struct{}{}
		}
	}
	built := map[string]bool{}
	for name, protos := range s.protos {
		add(protos...)
		built[name] = true
	}
	for name, sec := range s.cfg.Adapters {
		if built[name] {
			continue
		}
		// Not running (off, or in a worker process): the adapter, if its
		// factory builds it, says what it would serve; else its kind
		// names it. Factories connect nothing, so building one is free.
		add(sec.Kind)
		if f, ok := reg.adapters[sec.Kind]; ok {
			quiet := adapters.Setup{Logger: slog.New(slog.DiscardHandler), Layer: s.layer}
			if a, err := s.build(s.cfg, name, sec, f, quiet, false); err == nil {
				add(protocols(a, sec.Kind)...)
			}
		}
	}
	return served
}

// missingRoute is the error for an adapter none of whose protocols has a
// route: everything it takes in would fail to find a bot.
func missingRoute(name string, protos []string) error {
	if len(protos) == 1 {
		return fmt.Errorf("%s: routes.%s is missing: name the bot that serves its %s scopes", name, protos[0], protos[0])
	}
	return fmt.Errorf("%s: no route serves its %s scopes: add routes.%s", name, strings.Join(protos, " or "), strings.Join(protos, " or routes."))
}

// errRouteProbe is what the probe bot answers: the path reached a bot.
var errRouteProbe = errors.New("route probe")

// checkNeed checks that a route serves what the adapter named name makes
// its own clients open.
func (s *Server) checkNeed(reg *Registry, name string, need adapters.NeededRoute) []error {
	c := s.cfg
	key := name
	for _, k := range need.Keys {
		if c.lines[name+"."+k] != 0 {
			key = name + "." + k
			break
		}
	}
	fix := fmt.Sprintf("add {path: %q, bot: ...} under routes.%s.paths%s", need.Path, need.Protocol, need.Fix)
	r := c.Routes[need.Protocol]
	if r == nil {
		return []error{c.errorAt(key, fmt.Errorf("%s: %s, but no route serves %s scopes: %s", name, need.Why, need.Protocol, fix))}
	}
	probe := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return nil, errRouteProbe
	})
	b := &routeBuilder{reg: reg, file: c.file(), lines: c.lines, probe: probe}
	app := b.build("routes."+need.Protocol, r)
	if app == nil || len(b.errs) > 0 {
		return nil // the route's own errors are reported where it is built
	}
	_, err := app.NewInstance(context.Background(), &scope.Scope{Type: need.Protocol, Path: need.Path}, nil)
	if errors.Is(err, router.ErrNoRoute) {
		return []error{c.errorAt(key, fmt.Errorf("%s: %s, which no %s route serves: %s", name, need.Why, need.Protocol, fix))}
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
