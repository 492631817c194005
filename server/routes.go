package server

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/router/middleware"
	"github.com/switchboard-bots/switchboard/scope"
)

// Route says what serves a set of scopes: one bot, a list of path routes,
// or a list of chat commands with a fallback. Routes nest: a path route
// with paths of its own mounts them under its prefix.
type Route struct {
	// Bot names a registered bot.
	Bot string `yaml:"bot"`
	// Paths routes WebSocket and HTTP scopes by path pattern; the first
	// match wins. Patterns capture {name} segments into the scope.
	Paths []*PathRoute `yaml:"paths"`
	// Commands routes chat messages by command ("/start"); Fallback
	// serves everything else.
	Commands []*CommandRoute `yaml:"commands"`
	Fallback *Route          `yaml:"fallback"`
	// Channels routes worker scopes by the layer channel they serve.
	Channels map[string]*Route `yaml:"channels"`
	// Middleware wraps this route, outermost first.
	Middleware []Middleware `yaml:"middleware"`
}

// PathRoute is a route for a path pattern.
type PathRoute struct {
	Path  string `yaml:"path"`
	Route `yaml:",inline"`
}

// CommandRoute is a route for a chat command.
type CommandRoute struct {
	Command string `yaml:"command"`
	Route   `yaml:",inline"`
}

// Middleware is one middleware of a route, written as a name ("logger")
// or a name with settings ({ratelimit: {per_second: 1, burst: 5}},
// {allow_users: [id, ...]}, {deny_users: [id, ...]}).
type Middleware struct {
	Name      string
	PerSecond float64
	Burst     int
	Users     []string
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *Middleware) UnmarshalYAML(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.ScalarNode:
		m.Name = n.Value
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		m.Name = n.Content[0].Value
		v := n.Content[1]
		switch m.Name {
		case "ratelimit":
			var rl struct {
				PerSecond float64 `yaml:"per_second"`
				Burst     int     `yaml:"burst"`
			}
			if err := v.Decode(&rl); err != nil {
				return err
			}
			m.PerSecond, m.Burst = rl.PerSecond, rl.Burst
			if m.PerSecond <= 0 || m.Burst < 1 {
				return fmt.Errorf("line %d: ratelimit needs per_second > 0 and burst >= 1", v.Line)
			}
		case "allow_users", "deny_users":
			if err := v.Decode(&m.Users); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("line %d: a middleware is a name or a one-key map of a name to its settings", n.Line)
	}
	switch m.Name {
	case "logger", "recover", "ratelimit", "allow_users", "deny_users":
	default:
		return fmt.Errorf("line %d: unknown middleware %q (known: logger, recover, ratelimit, allow_users, deny_users)", n.Line, m.Name)
	}
	if m.Name == "ratelimit" && m.PerSecond == 0 {
		return fmt.Errorf("line %d: ratelimit needs settings: {ratelimit: {per_second: 1, burst: 5}}", n.Line)
	}
	return nil
}

// validate reports what is wrong with r, at the key path.
func (r *Route) validate(file, path string, reg *Registry, lines map[string]int) []error {
	var errs []error
	fail := func(key string, format string, args ...any) {
		errs = append(errs, &ConfigError{File: file, Line: lines[key], Key: key, Err: fmt.Errorf(format, args...)})
	}
	kinds := 0
	for _, set := range []bool{r.Bot != "", len(r.Paths) > 0, len(r.Commands) > 0, len(r.Channels) > 0} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		fail(path, "a route needs a bot, paths, commands or channels")
	case kinds > 1:
		fail(path, "a route has one of bot, paths, commands or channels, not several")
	}
	if r.Bot != "" && reg != nil {
		if _, ok := reg.Lookup(r.Bot); !ok {
			fail(path+".bot", "no bot named %q (registered: %s)", r.Bot, strings.Join(reg.Names(), ", "))
		}
	}
	if r.Fallback != nil {
		if len(r.Commands) == 0 {
			fail(path+".fallback", "fallback goes with commands")
		}
		errs = append(errs, r.Fallback.validate(file, path+".fallback", reg, lines)...)
	}
	for i, p := range r.Paths {
		key := fmt.Sprintf("%s.paths[%d]", path, i)
		if p.Path == "" {
			fail(key, "a path route needs a path")
		}
		errs = append(errs, p.Route.validate(file, key, reg, lines)...)
	}
	for name, ch := range r.Channels {
		key := path + ".channels." + name
		if ch == nil {
			fail(key, "a channel route needs a bot")
			continue
		}
		errs = append(errs, ch.validate(file, key, reg, lines)...)
	}
	for i, c := range r.Commands {
		key := fmt.Sprintf("%s.commands[%d]", path, i)
		if strings.TrimPrefix(c.Command, "/") == "" {
			fail(key, "a command route needs a command")
		}
		errs = append(errs, c.Route.validate(file, key, reg, lines)...)
	}
	return errs
}

// build turns r into an application. Router wiring panics on mistakes
// (a bad pattern, a duplicate route); here the routes are user input, so
// those panics become errors naming the route.
func (r *Route) build(path string, reg *Registry, deps Deps) (app scope.Application, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: %v", path, v)
		}
	}()
	switch {
	case r.Bot != "":
		bot, ok := reg.Lookup(r.Bot)
		if !ok {
			return nil, fmt.Errorf("%s: no bot named %q", path, r.Bot)
		}
		if app, err = bot(deps); err != nil {
			return nil, fmt.Errorf("%s: bot %q: %w", path, r.Bot, err)
		}
	case len(r.Paths) > 0:
		pr := router.NewPathRouter()
		for i, p := range r.Paths {
			sub, err := p.Route.build(fmt.Sprintf("%s.paths[%d]", path, i), reg, deps)
			if err != nil {
				return nil, err
			}
			if len(p.Paths) > 0 {
				pr.Mount(strings.TrimSuffix(p.Path, "/"), sub)
			} else {
				pr.Handle(p.Path, sub)
			}
		}
		app = pr
	case len(r.Commands) > 0:
		cr := router.NewCommandRouter()
		for i, c := range r.Commands {
			sub, err := c.Route.build(fmt.Sprintf("%s.commands[%d]", path, i), reg, deps)
			if err != nil {
				return nil, err
			}
			cr.Handle(c.Command, sub)
		}
		if r.Fallback != nil {
			fb, err := r.Fallback.build(path+".fallback", reg, deps)
			if err != nil {
				return nil, err
			}
			cr.Fallback(fb)
		}
		app = cr
	case len(r.Channels) > 0:
		routes := router.Routes{}
		for name, ch := range r.Channels {
			sub, err := ch.build(path+".channels."+name, reg, deps)
			if err != nil {
				return nil, err
			}
			routes[name] = sub
		}
		app = router.ByChannel(routes)
	default:
		return nil, errors.New(path + ": empty route")
	}
	mws := make([]router.Middleware, 0, len(r.Middleware))
	for _, m := range r.Middleware {
		mws = append(mws, m.build(deps))
	}
	return router.Chain(mws...)(app), nil
}

func (m Middleware) build(deps Deps) router.Middleware {
	switch m.Name {
	case "logger":
		return middleware.Logger(deps.Logger)
	case "ratelimit":
		return middleware.RateLimit(m.PerSecond, m.Burst)
	case "allow_users":
		return middleware.AllowUsers(m.Users...)
	case "deny_users":
		return middleware.DenyUsers(m.Users...)
	}
	return middleware.Recover
}
