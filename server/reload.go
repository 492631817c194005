package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrReloadRefused is wrapped by Reload's error for a config that fails
// Check: the running config stays.
var ErrReloadRefused = errors.New("server: reload refused")

// ErrNotRunning is returned by Reload when Run is not serving, or the
// server is stopping.
var ErrNotRunning = errors.New("server: not running")

// liveApp is the application every adapter serves: the routes of the
// config last loaded. The scope manager asks it for an instance once per
// scope, so a swap takes effect for new scopes, and a live scope keeps the
// instance, and so the routes, bots and middleware, it started with.
type liveApp struct {
	p atomic.Pointer[scope.Application]
}

var _ scope.Application = (*liveApp)(nil)

func newLiveApp(app scope.Application) *liveApp {
	a := &liveApp{}
	a.p.Store(&app)
	return a
}

func (a *liveApp) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	return (*a.p.Load()).NewInstance(ctx, s, conn)
}

func (a *liveApp) swap(app scope.Application) { a.p.Store(&app) }

// Reload applies cfg to the running server without a restart, or refuses
// it: a config that fails Check is refused with every error Check finds
// (wrapping ErrReloadRefused), and the running one stays.
//
// What it applies:
//   - routes, bots and middleware (rate limits, allowed users, timeouts):
//     scopes that start after Reload are served by the new routes; live
//     scopes (an open WebSocket, a conversation until it idles out) finish
//     on the routes they started with. A bot kept at the same place in
//     the routes, with the same settings (bots.NAME), keeps its
//     application, and so the state it holds.
//   - log.level, when the logger was given WithLogLevel.
//   - shutdown.grace, for the next stop.
//   - adapters: an adapter whose section changed, or whose scopes
//     settings (its own or the top-level scopes it inherits) changed, is
//     stopped gracefully within ctx and started again with its new
//     section, alone; the others keep running untouched. An adapter added
//     starts; one removed or turned off stops.
//
// What needs a restart: the layer, the ops section, log.format and
// log.throttle. Reload logs a warning for each such change and keeps the
// running value.
func (s *Server) Reload(ctx context.Context, cfg *Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.mu.Lock()
	old, ok := s.cfg, s.running && !s.stopping
	reuse := s.bots
	s.mu.Unlock()
	if !ok {
		return ErrNotRunning
	}
	if err := Check(cfg, s.reg, s.checkOptions()...); err != nil {
		return fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	for _, w := range Warnings(cfg, s.reg) {
		s.log.Warn("reload: config", "warning", w.Error())
	}
	for _, key := range restartOnly(old, cfg) {
		s.log.Warn("reload: this setting takes effect at a restart; the running value stays", "key", key)
	}
	cfg = keepRunning(old, cfg)
	// A bot whose own settings (bots.NAME) changed is built again.
	reuse = slices.DeleteFunc(slices.Clone(reuse), func(rb routedBot) bool {
		a, inOld := old.Bots[rb.name]
		b, inNew := cfg.Bots[rb.name]
		return inOld != inNew || inOld && !equalYAML(&a, &b)
	})
	routes, bots, err := s.buildRoutes(cfg, reuse)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	s.app.swap(s.wrap(routes))
	if s.opts.level != nil {
		level, _ := parseLevel(cfg.Log.Level) // Check passed
		s.opts.level.Set(level)
	}
	s.mu.Lock()
	s.cfg, s.bots = cfg, bots
	s.mu.Unlock()
	restarted, err := s.reloadAdapters(ctx, old, cfg)
	s.log.Info("reload: applied", "routes", slices.Sorted(maps.Keys(cfg.Routes)), "restarted", restarted, "log_level", cfg.Log.Level)
	return err
}

// checkOptions are the options Check takes to judge a config as this
// server would run it.
func (s *Server) checkOptions() []Option {
	opts := []Option{WithStdio(s.opts.stdin, s.opts.stdout)}
	if s.opts.worker != nil {
		opts = append(opts, AsWorker(s.opts.worker...))
	}
	return opts
}

// buildRoutes builds cfg's routes on the server's layer, reusing the
// application of each bot of reuse that is routed at the same key. On
// errors it returns what it could build as well, for the checks that
// report more.
func (s *Server) buildRoutes(cfg *Config, reuse []routedBot) (router.Routes, []routedBot, error) {
	b := &routeBuilder{reg: s.reg, deps: Deps{Layer: s.layer, Logger: s.log, Drops: s.ops.metrics}, settings: cfg.Bots, file: cfg.file(), lines: cfg.lines, reuse: map[string]routedBot{}}
	for _, rb := range reuse {
		b.reuse[rb.key] = rb
	}
	routes := router.Routes{}
	for _, proto := range slices.Sorted(maps.Keys(cfg.Routes)) {
		b.proto = proto
		if app := b.build("routes."+proto, cfg.Routes[proto]); app != nil {
			routes[proto] = app
		}
	}
	if len(b.errs) > 0 {
		return routes, b.bots, sortErrors(b.errs)
	}
	return routes, b.bots, nil
}

// restartOnly names the settings that differ between old and cfg and that
// Reload cannot apply.
func restartOnly(old, cfg *Config) []string {
	var keys []string
	differ := func(key string, a, b any) {
		if !equalYAML(a, b) {
			keys = append(keys, key)
		}
	}
	differ("layer", old.Layer, cfg.Layer)
	differ("ops", old.Ops, cfg.Ops)
	differ("log.format", old.Log.Format, cfg.Log.Format)
	differ("log.throttle", old.Log.Throttle, cfg.Log.Throttle)
	return keys
}

// keepRunning returns cfg with the settings Reload cannot apply taken from
// old, so that the next reload compares with what runs.
func keepRunning(old, cfg *Config) *Config {
	c := *cfg
	c.Layer, c.Ops = old.Layer, old.Ops
	c.Log.Format, c.Log.Throttle = old.Log.Format, old.Log.Throttle
	return &c
}

// equalYAML reports whether a and b encode to the same YAML: the settings
// as a file would write them, whatever their lines.
func equalYAML(a, b any) bool {
	ea, errA := yaml.Marshal(a)
	eb, errB := yaml.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ea, eb)
}

// equalTimers reports whether two timers sections run the same timers.
func equalTimers(a, b *TimersConfig) bool {
	if !a.on() || !b.on() {
		return a.on() == b.on()
	}
	return a.PollInterval == b.PollInterval && a.Lease == b.Lease && a.Batch == b.Batch
}

// sameSection reports whether an adapter runs the same under both
// configs: the same kind, switch, settings and effective scopes.
func sameSection(old, cfg *Config, a, b *AdapterSection) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && enabled(a.Enabled) == enabled(b.Enabled) &&
		mergeScopes(a.Scopes, old.Scopes) == mergeScopes(b.Scopes, cfg.Scopes) &&
		equalTimers(a.Timers, b.Timers) && equalYAML(a.node, b.node)
}

// reloadAdapters stops, within ctx, every adapter whose section differs
// between old and cfg, and starts the ones cfg runs in their place. It
// returns the names of the adapters it stopped or started.
func (s *Server) reloadAdapters(ctx context.Context, old, cfg *Config) ([]string, error) {
	before, err := adapterSections(old, s.opts, s.reg)
	if err != nil {
		return nil, err
	}
	after, err := adapterSections(cfg, s.opts, s.reg)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, name := range slices.Sorted(maps.Keys(mergeKeys(before, after))) {
		if !sameSection(old, cfg, before[name], after[name]) {
			changed = append(changed, name)
		}
	}
	var errs []error
	for _, name := range changed {
		if h, _ := s.host(name); h != nil {
			s.log.Info("reload: stopping the adapter, its section changed", "adapter", name)
			if err := h.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			s.removeHost(h)
		}
		sec := after[name]
		if sec == nil {
			continue
		}
		h, protos, max, err := s.newHost(cfg, name, sec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if h == nil {
			continue // turned off
		}
		if !s.start(h, protos, max) {
			return changed, ErrNotRunning
		}
		s.log.Info("reload: adapter started", "adapter", name)
	}
	return changed, errors.Join(errs...)
}

func mergeKeys[V any](a, b map[string]V) map[string]V {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, b)
	return out
}

// removeHost forgets h, which has stopped.
func (s *Server) removeHost(h *adapters.Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adapters = slices.DeleteFunc(s.adapters, func(x *adapters.Host) bool { return x == h })
	delete(s.protos, h.Name())
	delete(s.maxScopes, h.Name())
	s.findWeb()
}

// start records h and hands it to Run, which runs it; it reports false
// when Run has returned.
func (s *Server) start(h *adapters.Host, protos []string, max int) bool {
	name := h.Name()
	s.mu.Lock()
	s.adapters = append(s.adapters, h)
	s.protos[name], s.maxScopes[name] = protos, max
	s.findWeb()
	s.mu.Unlock()
	s.addAdapterChecks(name)
	select {
	case s.starts <- h:
		return true
	case <-s.runDone:
		return false
	}
}
