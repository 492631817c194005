package server

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/router"
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

// Middleware is one middleware of a route, written as a registered name
// ("logger") or as a one-key map of a name to its settings
// ({ratelimit: {per_second: 1, burst: 5}}, {allow_users: [id, ...]}). The
// middleware's factory in the Registry decodes the settings.
type Middleware struct {
	Name string

	settings *yaml.Node // nil when written as a name alone
	line     int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *Middleware) UnmarshalYAML(n *yaml.Node) error {
	m.line = n.Line
	switch {
	case n.Kind == yaml.ScalarNode:
		m.Name = n.Value
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		m.Name, m.settings = n.Content[0].Value, n.Content[1]
	default:
		return fmt.Errorf("line %d: a middleware is a name or a one-key map of a name to its settings", n.Line)
	}
	if m.Name == "" {
		return fmt.Errorf("line %d: a middleware needs a name", n.Line)
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
	for i, m := range r.Middleware {
		if reg == nil {
			break
		}
		if _, ok := reg.middleware[m.Name]; !ok {
			key := fmt.Sprintf("%s.middleware[%d]", path, i)
			errs = append(errs, &ConfigError{File: file, Line: m.line, Key: key,
				Err: fmt.Errorf("unknown middleware %q (registered: %s)", m.Name, strings.Join(reg.MiddlewareNames(), ", "))})
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

// routeBuilder turns routes into applications, collecting every error
// with the file and line of the key it concerns.
type routeBuilder struct {
	reg  *Registry
	deps Deps
	// settings are the bots' own settings, by bot name.
	settings map[string]yaml.Node
	file     string
	lines    map[string]int
	errs     []error
	// proto is the protocol of the route being built.
	proto string
	// bots records each bot the routes serve with, for the checks that
	// need the built application.
	bots []routedBot
	// probe, when set, stands for every bot and no middleware is built:
	// a tree that tells which paths reach a bot.
	probe scope.Application
	// reuse holds the bots of the routes a reload replaces, by key: a bot
	// routed at the same key under the same name keeps its application.
	reuse map[string]routedBot
}

// routedBot is a bot as a route serves with it.
type routedBot struct {
	proto string // the protocol of the route
	key   string // the bot's key: "routes.telegram.fallback.bot"
	name  string
	app   scope.Application
}

func (b *routeBuilder) fail(key string, line int, err error) {
	if _, ok := errors.AsType[*ConfigError](err); ok {
		b.errs = append(b.errs, err)
		return
	}
	if line == 0 {
		line = b.lines[key]
	}
	b.errs = append(b.errs, &ConfigError{File: b.file, Line: line, Key: key, Err: err})
}

// build turns r, at the key path, into an application, or nil after
// recording why it cannot. Router wiring panics on mistakes (a bad
// pattern, a duplicate route); here the routes are user input, so those
// panics become errors naming the route. Unknown bots and middleware are
// Validate's to report; build leaves them out quietly.
func (b *routeBuilder) build(path string, r *Route) (app scope.Application) {
	defer func() {
		if v := recover(); v != nil {
			b.fail(path, 0, fmt.Errorf("%v", v))
			app = nil
		}
	}()
	if r == nil {
		return nil
	}
	switch {
	case r.Bot != "" && b.probe != nil:
		app = b.probe
	case r.Bot != "" && b.reuse[path+".bot"].name == r.Bot:
		rb := b.reuse[path+".bot"]
		rb.proto = b.proto
		b.bots = append(b.bots, rb)
		app = rb.app
	case r.Bot != "":
		bot, ok := b.reg.Lookup(r.Bot)
		if !ok {
			return nil
		}
		deps := b.deps
		deps.Decode = func(v any) error {
			n, ok := b.settings[r.Bot]
			if !ok {
				return nil
			}
			return decodeNode(b.file, "bots."+r.Bot, &n, v)
		}
		a, err := bot(deps)
		if err != nil {
			if _, ok := errors.AsType[*ConfigError](err); !ok {
				err = fmt.Errorf("bot %q: %w", r.Bot, err) // else it names its own key
			}
			b.fail(path+".bot", 0, err)
			return nil
		}
		b.bots = append(b.bots, routedBot{proto: b.proto, key: path + ".bot", name: r.Bot, app: a})
		app = a
	case len(r.Paths) > 0:
		pr := router.NewPathRouter()
		for i, p := range r.Paths {
			sub := b.build(fmt.Sprintf("%s.paths[%d]", path, i), &p.Route)
			if sub == nil {
				continue
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
			if sub := b.build(fmt.Sprintf("%s.commands[%d]", path, i), &c.Route); sub != nil {
				cr.Handle(c.Command, sub)
			}
		}
		if r.Fallback != nil {
			if fb := b.build(path+".fallback", r.Fallback); fb != nil {
				cr.Fallback(fb)
			}
		}
		app = cr
	case len(r.Channels) > 0:
		routes := router.Routes{}
		for name, ch := range r.Channels {
			if sub := b.build(path+".channels."+name, ch); sub != nil {
				routes[name] = sub
			}
		}
		app = router.ByChannel(routes)
	default:
		return nil
	}
	if b.probe != nil {
		return app
	}
	mws := make([]router.Middleware, 0, len(r.Middleware))
	for i, m := range r.Middleware {
		if mw := b.middleware(fmt.Sprintf("%s.middleware[%d]", path, i), m); mw != nil {
			mws = append(mws, mw)
		}
	}
	return router.Chain(mws...)(app)
}

// middleware builds m with its registered factory.
func (b *routeBuilder) middleware(key string, m Middleware) router.Middleware {
	f, ok := b.reg.middleware[m.Name]
	if !ok {
		return nil
	}
	setup := MiddlewareSetup{
		Name:     m.Name,
		Settings: m.settings != nil,
		Decode: func(v any) error {
			if m.settings == nil {
				return nil
			}
			return decodeNode(b.file, key+"."+m.Name, m.settings, v)
		},
		Deps: b.deps,
	}
	mw, err := f(setup)
	switch {
	case err != nil:
		if _, ok := errors.AsType[*ConfigError](err); !ok {
			err = fmt.Errorf("%s: %w", m.Name, err)
		}
		b.fail(key, m.line, err)
		return nil
	case mw == nil:
		b.fail(key, m.line, fmt.Errorf("%s: the middleware's factory returned nil", m.Name))
	}
	return mw
}
