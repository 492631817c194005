package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/layer/redis"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Server runs the adapters, routes and channel layer of a Config.
type Server struct {
	cfg       *Config
	log       *slog.Logger
	layer     layer.Layer
	app       scope.Application
	adapters  []*adapters.Host
	protos    map[string][]string // the protocols each adapter serves, by name
	maxScopes map[string]int      // each adapter's bound on live scopes, by name
	web       *adapters.Host      // runs the adapter serving WebSocket scopes on an address; nil when none does
	ops       *opsServer
	slow      *ops.SlowHandlers
	bodies    *adapters.BodyBudget // request bodies in memory, for every adapter's listeners
	intake    *cluster.Node        // the durable intake (layer.intake), or nil

	stopOnce sync.Once
}

// Option configures a Server with what a file cannot hold.
type Option func(*options)

type options struct {
	log    *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	worker []string // worker mode: serve these channels only
}

// WithLogger sets the server's logger. Default: one built from the
// config's log section, writing to standard error.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithStdio sets the console adapter's input and output. Default: the
// process's standard input and output.
func WithStdio(in io.Reader, out io.Writer) Option {
	return func(o *options) { o.stdin, o.stdout = in, out }
}

// AsWorker makes the server a worker that serves the named layer channels
// with the "channel" routes, and runs no other adapter (Django Channels'
// runworker): it runs one adapter of kind "worker" (WorkerKind), named
// worker, on these channels, with the scopes of the file's worker section
// if it has one.
func AsWorker(channels ...string) Option { return func(o *options) { o.worker = channels } }

// New builds a server from cfg and what reg names: bots, adapter kinds and
// middleware. It validates the config and builds every part without
// connecting anything (Run connects), and reports every problem it finds,
// each with the file and line it concerns when cfg came from a file.
func New(cfg *Config, reg *Registry, opts ...Option) (*Server, error) {
	if reg == nil {
		reg = NewRegistry()
	}
	o := options{stdin: os.Stdin, stdout: os.Stdout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.log == nil {
		l, err := NewLogger(cfg.Log, os.Stderr)
		if err != nil {
			return nil, cfg.errorAt("log", err)
		}
		o.log = l
	}
	var errs []error
	if err := cfg.Validate(reg); err != nil {
		errs = append(errs, err)
	}
	s := &Server{cfg: cfg, log: o.log}
	opsrv, err := newOps(cfg.Ops, s.log)
	if err != nil {
		return nil, err
	}
	s.ops = opsrv
	opsrv.enablePprof(cfg.Ops.Pprof)
	s.bodies = adapters.NewBodyBudget(cfg.Ops.BodyBudget)
	backend, err := newLayer(cfg)
	if err != nil {
		if len(errs) == 0 { // else Validate said why already
			errs = append(errs, cfg.errorAt("layer", err))
		}
		return nil, sortErrors(errs)
	}
	l := opsrv.metrics.Layer()(backend)
	var intakeErr error
	if s.intake, l, intakeErr = newIntake(cfg, l, o.log); intakeErr != nil && len(errs) == 0 {
		errs = append(errs, cfg.errorAt("layer", intakeErr)) // else Validate said why already
	}
	s.layer = l
	b := &routeBuilder{reg: reg, deps: Deps{Layer: l, Logger: o.log}, settings: cfg.Bots, file: cfg.file(), lines: cfg.lines}
	routes := router.Routes{}
	for _, proto := range slices.Sorted(maps.Keys(cfg.Routes)) {
		b.proto = proto
		if app := b.build("routes."+proto, cfg.Routes[proto]); app != nil {
			routes[proto] = app
		}
	}
	errs = append(errs, b.errs...)
	slow, err := ops.NewSlowHandlers(opsrv.reg, ops.SlowOptions{After: cfg.Ops.SlowHandler, Logger: o.log})
	if err != nil {
		return nil, err
	}
	s.slow = slow
	// Consumers log through the server's logger and count the layer
	// messages they drop in its metrics.
	withConsumers := router.Chain(consumer.WithLogger(o.log), consumer.WithLayer(l, consumer.ObserveDrops(opsrv.metrics)))
	s.app = withConsumers(opsrv.metrics.Middleware()(slow.Middleware()(router.ByProtocol(routes))))
	adapterErrs := s.buildAdapters(o, reg, setupLayer(l, backend), opsrv.metrics)
	errs = append(errs, adapterErrs...)
	if len(adapterErrs) == 0 && len(s.adapters) == 0 {
		errs = append(errs, cfg.errorAt("", fmt.Errorf("no adapter is enabled: add the section of an adapter kind (registered: %s)", orNone(reg.AdapterKinds()))))
	}
	errs = append(errs, s.checkRoutes(reg, b.bots)...)
	if len(errs) > 0 {
		_ = l.Close()
		return nil, sortErrors(errs)
	}
	s.addChecks(backend)
	return s, nil
}

// addChecks makes readiness wait for every adapter to say it serves
// (adapters.Intake.Ready), and for a layer that can be pinged.
func (s *Server) addChecks(backend layer.Layer) {
	ready := func(ch <-chan struct{}, what string) func(context.Context) error {
		return func(context.Context) error {
			select {
			case <-ch:
				return nil
			default:
				return errors.New(what)
			}
		}
	}
	for _, h := range s.adapters {
		s.ops.health.AddCheck(h.Name(), ready(h.Ready(), "not connected yet"))
		s.ops.health.AddCheck(h.Name()+" handlers", s.slow.Check(h.Name(), s.maxScopes[h.Name()]))
	}
	if p, ok := backend.(interface{ Ping(context.Context) error }); ok {
		s.ops.health.AddCheck("layer", p.Ping)
	}
	s.addIntakeCheck()
}

// OpsAddr returns where /metrics, /healthz and /readyz are served, or nil.
func (s *Server) OpsAddr() net.Addr { return s.ops.Addr() }

// WorkerKind is the adapter kind that AsWorker runs: the registry must
// hold a factory for it that serves the layer channels of a "channels"
// setting, as package builtin's does.
const WorkerKind = "worker"

// buildAdapters builds the enabled adapters of the config's sections, each
// with the factory reg holds for its kind and run by an adapters.Host, or
// in worker mode the worker alone. It returns every error it finds.
func (s *Server) buildAdapters(o options, reg *Registry, l layer.Layer, obs adapters.Observer) []error {
	c := s.cfg
	sections := c.Adapters
	if o.worker != nil {
		sec, err := workerSection(c, o.worker)
		if err != nil {
			return []error{c.errorAt(WorkerKind, err)}
		}
		if _, ok := reg.adapters[WorkerKind]; !ok {
			return []error{c.errorAt("", fmt.Errorf("worker mode needs the adapter kind %q registered (adapter kinds: %s)", WorkerKind, orNone(reg.AdapterKinds())))}
		}
		sections = map[string]*AdapterSection{WorkerKind: sec}
	}
	var errs []error
	s.protos = map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		sec := sections[name]
		f, ok := reg.adapters[sec.Kind]
		if !ok || !enabled(sec.Enabled) {
			continue // Validate reported an unknown kind
		}
		a, err := s.build(name, sec, f, adapters.Setup{Logger: s.log, Layer: l, Stdin: o.stdin, Stdout: o.stdout})
		if err != nil {
			errs = append(errs, c.errorAt(name, err))
			continue
		}
		sc := mergeScopes(sec.Scopes, c.Scopes)
		if s.maxScopes == nil {
			s.maxScopes = map[string]int{}
		}
		s.maxScopes[name] = cmp.Or(sc.MaxScopes, scope.DefaultMaxScopes)
		h := adapters.NewHost(a,
			adapters.WithScopes(sc),
			adapters.WithLogger(s.log),
			adapters.WithPushes(s.layer),
			adapters.WithObserver(obs),
			adapters.WithBodyBudget(s.bodies),
			s.journalOption(),
		)
		s.adapters = append(s.adapters, h)
		s.protos[name] = protocols(a, sec.Kind)
		if _, ok := a.(interface{ Addr() net.Addr }); ok && s.web == nil && slices.Contains(s.protos[name], "websocket") {
			s.web = h
		}
	}
	return errs
}

// protocols returns the protocols of the scopes a, of kind, makes: its
// Protocols, or else its kind, which names the protocol of the built-in
// adapters (an adapter of kind telegram named support makes telegram
// scopes).
func protocols(a adapters.Adapter, kind string) []string {
	if p, ok := a.(adapters.Protocols); ok {
		return p.Protocols()
	}
	return []string{kind}
}

// workerSection is the section of the worker that AsWorker runs: the
// file's worker section, if it is of kind worker, for its scopes, with the
// channels of the command line.
func workerSection(c *Config, channels []string) (*AdapterSection, error) {
	sec, err := NewAdapterSection(WorkerKind, map[string][]string{"channels": channels})
	if err != nil {
		return nil, err
	}
	if own := c.Adapters[WorkerKind]; own != nil && own.Kind == WorkerKind {
		sec.Scopes = own.Scopes
	}
	return sec, nil
}

// build builds the adapter of section name with its factory f, given the
// setup's logger, layer and stdio.
func (s *Server) build(name string, sec *AdapterSection, f adapters.Factory, setup adapters.Setup) (adapters.Adapter, error) {
	setup.Name = name
	setup.Decode = func(v any) error { return sec.decode(s.cfg.file(), name, v) }
	a, err := f(setup)
	switch {
	case err != nil:
		if _, ok := errors.AsType[*ConfigError](err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	case a == nil:
		return nil, fmt.Errorf("%s: the %s adapter's factory returned no adapter", name, sec.Kind)
	case a.Name() != name:
		return nil, fmt.Errorf("%s: the %s adapter's factory made an adapter named %q: it must take its name from Setup.Name", name, sec.Kind, a.Name())
	}
	return a, nil
}

// leasingLayer is a layer shared by processes that can elect one of them:
// what factories get as Setup.Layer on the Redis layer.
type leasingLayer struct {
	layer.Layer
	lease adapters.Lease
}

var _ adapters.Leaser = leasingLayer{}

func (l leasingLayer) Lease() adapters.Lease { return l.lease }

// setupLayer is the layer factories get: l, and an adapters.Leaser if the
// backend under it can elect one process among those sharing it.
func setupLayer(l, backend layer.Layer) layer.Layer {
	if rl, ok := backend.(*redis.Layer); ok {
		return leasingLayer{Layer: l, lease: rl.Lease()}
	}
	return l
}

// newLayer builds the configured channel layer; neither backend connects
// before its first use.
func newLayer(cfg *Config) (layer.Layer, error) {
	if cfg.Layer.Backend == "redis" {
		return redis.New(cfg.redisConfig())
	}
	return memory.New(cfg.Layer.Config)
}

// WebSocket returns the Host running the adapter that serves WebSocket
// scopes on an address (it has an Addr() net.Addr method, as the built-in
// websocket adapter does), or nil when none runs. Its Ready is closed once
// the adapter listens.
func (s *Server) WebSocket() *adapters.Host { return s.web }

// WebSocketAddr returns where the WebSocket adapter listens, once it is
// ready, or nil.
func (s *Server) WebSocketAddr() net.Addr {
	if s.web == nil {
		return nil
	}
	return s.web.Adapter().(interface{ Addr() net.Addr }).Addr()
}

// Layer returns the server's channel layer.
func (s *Server) Layer() layer.Layer { return s.layer }

// afterDeadline bounds what a stop still waits for once its deadline
// passed (closing the layer, the ops listener, the adapters' goroutines),
// so that a process stopping within a grace period exits within a second
// of it.
const afterDeadline = 250 * time.Millisecond

// Run runs every adapter until Shutdown, or until one fails for good, in
// which case it shuts the others down within the config's shutdown.grace
// and returns that failure. ctx ending stops everything at once.
func (s *Server) Run(ctx context.Context) error {
	if err := s.ops.listen(); err != nil {
		s.stopOnce.Do(func() { _ = s.layer.Close() })
		return err
	}
	defer s.ops.close()
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.slow.Run(watch)
	errs := make(chan error, len(s.adapters))
	for _, a := range s.adapters {
		go func() {
			err := a.Run(ctx, s.app)
			if err != nil && !errors.Is(err, adapters.ErrStopped) {
				err = fmt.Errorf("%s: %w", a.Name(), err)
			} else {
				err = nil
			}
			errs <- err
		}()
	}
	var first error
	for range s.adapters {
		if err := <-errs; err != nil && first == nil {
			first = err
			if ctx.Err() == nil {
				s.log.Error("adapter failed; shutting the others down", "err", err)
				go func() {
					sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.grace())
					defer cancel()
					_ = s.Shutdown(sctx)
				}()
			}
		}
	}
	s.closeLayer(context.Background())
	return first
}

func (s *Server) grace() time.Duration {
	if g := s.cfg.Shutdown.Grace; g > 0 {
		return g
	}
	return DefaultGrace
}

// Shutdown stops intake on every adapter, lets conversations drain and end
// with reason shutdown, then closes the channel layer. It returns when all
// that is done, or soon after ctx ends (with ctx's error), whatever is
// still running: a handler that ignores its context cannot hold it.
func (s *Server) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.adapters))
	for i, a := range s.adapters {
		wg.Go(func() {
			if err := a.Shutdown(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", a.Name(), err)
			}
		})
	}
	if !waitUntil(ctx, wg.Wait) {
		// At the deadline each Host names the scopes still running and
		// returns at once: give them that moment, and no more.
		late, cancel := context.WithTimeout(context.Background(), afterDeadline)
		if !waitUntil(late, wg.Wait) {
			s.log.Warn("adapters still stopping at the shutdown deadline; leaving them")
		}
		cancel()
		s.closeLayer(ctx)
		return ctx.Err()
	}
	// The layer goes last, so that a final send from a disconnect handler
	// still arrives.
	s.closeLayer(ctx)
	return errors.Join(errs...)
}

// closeLayer closes the channel layer once, waiting for it until
// afterDeadline past ctx's end.
func (s *Server) closeLayer(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		s.stopOnce.Do(func() { _ = s.layer.Close() })
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done:
		case <-time.After(afterDeadline):
			s.log.Warn("the channel layer did not close in time; leaving it")
		}
	}
}

// waitUntil runs wait, and reports whether it returned before ctx ended.
// A wait that outlives ctx goes on in the background.
func waitUntil(ctx context.Context, wait func()) bool {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// NewLogger builds the logger a LogConfig describes.
func NewLogger(c LogConfig, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log.level must be debug, info, warn or error, got %q", s)
}
