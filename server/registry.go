package server

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Deps is what a bot gets when the server builds it.
type Deps struct {
	// Layer is the server's channel layer. Consumers reach it through
	// their Base already; a bot that runs its own goroutines uses this.
	Layer layer.Layer
	// Logger is the server's logger.
	Logger *slog.Logger
	// Drops counts the layer messages a bot drops on its own, outside
	// its consumers' handlers (which count theirs already): the server's
	// metrics, under switchboard_layer_messages_dropped_total. Nil
	// outside botserver.
	Drops consumer.DropObserver
	// Decode decodes the bot's settings (its entry under bots: in the
	// config file) into v strictly: an unknown key is an error naming its
	// file and line. Without settings it leaves v as it is, so a bot
	// fills v with its defaults first. Nil outside botserver's config.
	Decode func(v any) error
}

// Bot builds a bot's application. The server calls it once per route that
// names the bot.
type Bot func(Deps) (scope.Application, error)

// MiddlewareSetup is what a MiddlewareFactory gets from the server to
// build one middleware of a route.
type MiddlewareSetup struct {
	// Name is the middleware's name as the config file writes it.
	Name string
	// Settings reports whether the file gave the middleware settings
	// ({ratelimit: {per_second: 1, burst: 5}}) rather than its name alone
	// ("logger").
	Settings bool
	// Decode decodes the settings into v strictly: an unknown key or a
	// value of the wrong type is an error naming the file, line and key.
	// Without settings it leaves v as it is and returns nil.
	Decode func(v any) error
	// Deps are the server's layer and logger.
	Deps
}

// MiddlewareFactory builds a middleware from its settings in a route of
// the config file. An error it returns is reported at the middleware's
// line.
type MiddlewareFactory func(MiddlewareSetup) (router.Middleware, error)

// Registry holds what a config file can name: bots, adapter kinds and
// middleware. It is a value the server is given, not a package-level
// table: a program registers exactly what it serves.
type Registry struct {
	bots       map[string]Bot
	adapters   map[string]adapters.Factory
	middleware map[string]MiddlewareFactory
	privileged map[string]bool // bots for operators only
	guards     map[string]bool // middleware that decides who may start a scope
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		bots:       map[string]Bot{},
		adapters:   map[string]adapters.Factory{},
		middleware: map[string]MiddlewareFactory{},
		privileged: map[string]bool{},
		guards:     map[string]bool{},
	}
}

// RegisterPrivileged adds a bot for operators only, such as an admin
// console: check warns about a route that serves it with no guard
// middleware (RegisterGuard) on the way to it, since anyone who can reach
// the route can then use it. It panics as Register does.
func (r *Registry) RegisterPrivileged(name string, b Bot) {
	r.Register(name, b)
	r.privileged[name] = true
}

// RegisterGuard adds a middleware that decides who may start a scope (a
// token, a list of allowed users): a privileged bot behind it is on a
// guarded route. It panics as RegisterMiddleware does.
func (r *Registry) RegisterGuard(name string, f MiddlewareFactory) {
	r.RegisterMiddleware(name, f)
	r.guards[name] = true
}

// Register adds a bot under name. It panics on an empty name, a nil bot or
// a name registered twice: wiring mistakes show on the first run.
func (r *Registry) Register(name string, b Bot) {
	register(r.bots, "bot", name, b, b == nil)
}

// RegisterApp adds a bot that is one fixed application.
func (r *Registry) RegisterApp(name string, app scope.Application) {
	r.Register(name, func(Deps) (scope.Application, error) { return app, nil })
}

// RegisterAdapter adds an adapter kind: a top-level section of the config
// file named kind (or with "kind: <kind>") is built by f. It panics on an
// empty kind, a nil factory or a kind registered twice.
func (r *Registry) RegisterAdapter(kind string, f adapters.Factory) {
	register(r.adapters, "adapter", kind, f, f == nil)
}

// RegisterMiddleware adds a middleware that routes name in their
// middleware lists. It panics on an empty name, a nil factory or a name
// registered twice.
func (r *Registry) RegisterMiddleware(name string, f MiddlewareFactory) {
	register(r.middleware, "middleware", name, f, f == nil)
}

func register[V any](m map[string]V, what, name string, v V, isNil bool) {
	switch {
	case name == "":
		panic(fmt.Sprintf("server: %s registered with an empty name", what))
	case isNil:
		panic(fmt.Sprintf("server: %s %q registered as nil", what, name))
	}
	if _, dup := m[name]; dup {
		panic(fmt.Sprintf("server: %s %q registered twice", what, name))
	}
	m[name] = v
}

// Lookup returns the bot registered under name.
func (r *Registry) Lookup(name string) (Bot, bool) {
	b, ok := r.bots[name]
	return b, ok
}

// Names returns the registered bot names, sorted.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.bots)) }

// AdapterKinds returns the registered adapter kinds, sorted.
func (r *Registry) AdapterKinds() []string { return slices.Sorted(maps.Keys(r.adapters)) }

// MiddlewareNames returns the registered middleware names, sorted.
func (r *Registry) MiddlewareNames() []string { return slices.Sorted(maps.Keys(r.middleware)) }
