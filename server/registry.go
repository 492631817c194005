package server

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// Deps is what a bot gets when the server builds it.
type Deps struct {
	// Layer is the server's channel layer. Consumers reach it through
	// their Base already; a bot that runs its own goroutines uses this.
	Layer layer.Layer
	// Logger is the server's logger.
	Logger *slog.Logger
}

// Bot builds a bot's application. The server calls it once per route that
// names the bot.
type Bot func(Deps) (scope.Application, error)

// Registry maps bot names to bots. It is a value the server is given, not
// a package-level table: a program registers exactly the bots it serves.
type Registry struct {
	bots map[string]Bot
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{bots: map[string]Bot{}} }

// Register adds a bot under name. It panics on an empty name, a nil bot or
// a name registered twice: wiring mistakes show on the first run.
func (r *Registry) Register(name string, b Bot) {
	switch {
	case name == "":
		panic("server: Register with an empty bot name")
	case b == nil:
		panic(fmt.Sprintf("server: Register(%q) with a nil bot", name))
	}
	if _, dup := r.bots[name]; dup {
		panic(fmt.Sprintf("server: bot %q registered twice", name))
	}
	r.bots[name] = b
}

// RegisterApp adds a bot that is one fixed application.
func (r *Registry) RegisterApp(name string, app scope.Application) {
	r.Register(name, func(Deps) (scope.Application, error) { return app, nil })
}

// Lookup returns the bot registered under name.
func (r *Registry) Lookup(name string) (Bot, bool) {
	b, ok := r.bots[name]
	return b, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.bots))
	for n := range r.bots {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
