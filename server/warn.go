package server

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrOpenRoute is wrapped by the warning about a privileged bot (see
// Registry.RegisterPrivileged) on a route with no guard middleware.
var ErrOpenRoute = errors.New("warning: an operator's bot on an open route")

// Warnings returns what is legal in cfg but likely a mistake, each as a
// ConfigError with its file, line and key: for now, each privileged bot
// that a route serves with no guard middleware on the way to it, which
// anyone who reaches the route can use. check prints them and passes;
// botserver logs them at startup.
func Warnings(cfg *Config, reg *Registry) []error {
	if reg == nil {
		return nil
	}
	var out []error
	var walk func(key string, r *Route, guarded bool)
	walk = func(key string, r *Route, guarded bool) {
		if r == nil {
			return
		}
		for _, m := range r.Middleware {
			guarded = guarded || reg.guards[m.Name]
		}
		if r.Bot != "" && reg.privileged[r.Bot] && !guarded {
			out = append(out, &ConfigError{File: cfg.file(), Line: cfg.lines[key], Key: key + ".bot", Err: fmt.Errorf(
				"%w: bot %q serves anyone who reaches %s; add a guard to its middleware (%s)",
				ErrOpenRoute, r.Bot, key, orNone(slices.Sorted(maps.Keys(reg.guards))))})
		}
		for i, p := range r.Paths {
			walk(fmt.Sprintf("%s.paths[%d]", key, i), &p.Route, guarded)
		}
		for i, c := range r.Commands {
			walk(fmt.Sprintf("%s.commands[%d]", key, i), &c.Route, guarded)
		}
		walk(key+".fallback", r.Fallback, guarded)
		for _, name := range slices.Sorted(maps.Keys(r.Channels)) {
			walk(key+".channels."+name, r.Channels[name], guarded)
		}
	}
	for _, proto := range slices.Sorted(maps.Keys(cfg.Routes)) {
		walk("routes."+proto, cfg.Routes[proto], false)
	}
	return out
}
