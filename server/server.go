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
	"github.com/switchboard-bots/switchboard/ratelimit"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Server runs the adapters, routes and channel layer of a Config.
type Server struct {
	log    *slog.Logger
	layer  layer.Layer
	setup  layer.Layer // the layer adapter factories get: layer, perhaps a Leaser
	app    *liveApp    // the routes new scopes start on; Reload swaps them
	ops    *opsServer
	slow   *ops.SlowHandlers
	bodies *adapters.BodyBudget // request bodies in memory, for every adapter's listeners
	reg    *Registry
	opts   options // what New was given, for Reload

	reloadMu sync.Mutex // one Reload at a time

	mu        sync.Mutex // guards the fields below, which Reload changes
	cfg       *Config
	adapters  []*adapters.Host
	protos    map[string][]string   // the protocols each adapter serves, by name
	maxScopes map[string]int        // each adapter's bound on live scopes, by name
	web       *adapters.Host        // runs the adapter serving WebSocket scopes on an address; nil when none does
	bots      []routedBot           // the bots the routes serve, reused by Reload
	running   bool                  // Run serves; starts takes hosts
	stopping  bool                  // Shutdown began, or Run returned: Reload starts nothing
	checked   map[string]bool       // the adapters with readiness checks, by name
	retries   map[string]retryState // adapters waiting to be started again, by name

	stopRetries chan struct{} // closed by Shutdown: pending restarts give up
	stopRetry   sync.Once
	starts      chan *adapters.Host // Reload hands Run the hosts it built
	runDone     chan struct{}       // closed when Run returns
	st          statusParts         // the status page on the ops listener
	intake      *cluster.Node       // the durable intake (layer.intake), or nil
	conv        *conversations      // the conversation channels, or nil
	limiter     ratelimit.Limiter   // the rate limits shared by processes (layer.rate_limits), or nil
	timers      timers              // the timer store of the adapters with timers

	timedMu sync.Mutex               // guards timed, apart from mu: Run asks while holding mu
	timed   map[*adapters.Host]timed // the Hosts that run timers

	stopOnce sync.Once
}

// Option configures a Server with what a file cannot hold.
type Option func(*options)

type options struct {
	log     *slog.Logger
	level   *slog.LevelVar // set by Reload to the config's log.level; nil: left alone
	version string         // logged by the startup summary
	stdin   io.Reader
	stdout  io.Writer
	worker  []string // worker mode: serve these channels only
}

// WithLogLevel names the level the logger of WithLogger filters by, so
// that Reload can apply a new log.level to it. Default: none, and a
// reload leaves the level as it was.
func WithLogLevel(v *slog.LevelVar) Option { return func(o *options) { o.level = v } }

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
	st, tapped := newStatusParts(cfg, o.log)
	o.log = tapped
	s := &Server{cfg: cfg, log: o.log, st: st, reg: reg, opts: o, starts: make(chan *adapters.Host), runDone: make(chan struct{}), stopRetries: make(chan struct{})}
	opsrv, err := newOps(cfg.Ops, s.log)
	if err != nil {
		return nil, err
	}
	s.ops = opsrv
	opsrv.enablePprof(cfg.Ops.Pprof)
	s.bodies = adapters.NewBodyBudget(cfg.Ops.BodyBudget)
	backend, err := newLayer(cfg, o.log, opsrv.metrics)
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
	var limiterErr error
	if s.limiter, l, limiterErr = newLimiter(cfg, l); limiterErr != nil && len(errs) == 0 {
		errs = append(errs, cfg.errorAt("layer", limiterErr)) // else Validate said why already
	}
	var convErr error
	if s.conv, l, convErr = newConversations(s, cfg, l); convErr != nil && len(errs) == 0 {
		errs = append(errs, cfg.errorAt("layer", convErr)) // else Validate said why already
	}
	s.layer = l
	routes, bots, err := s.buildRoutes(cfg, nil)
	if err != nil {
		errs = append(errs, err)
	}
	slow, err := ops.NewSlowHandlers(opsrv.reg, ops.SlowOptions{After: cfg.Ops.SlowHandler, Logger: o.log})
	if err != nil {
		return nil, err
	}
	s.slow = slow
	s.app = newLiveApp(s.wrap(routes))
	s.bots = bots
	s.setup = setupLayer(l, backend)
	adapterErrs := s.buildAdapters(o, reg)
	errs = append(errs, adapterErrs...)
	if len(adapterErrs) == 0 && len(s.adapters) == 0 {
		errs = append(errs, cfg.errorAt("", fmt.Errorf("no adapter is enabled: add the section of an adapter kind (registered: %s)", orNone(reg.AdapterKinds()))))
	}
	errs = append(errs, s.checkRoutes(reg, bots)...)
	if len(errs) > 0 {
		_ = l.Close()
		return nil, sortErrors(errs)
	}
	s.addChecks(backend)
	s.buildStatus()
	return s, nil
}

// wrap is the application the adapters serve for routes: the consumers'
// logger and layer, the metrics, the status page's traffic counts and the
// slow-handler watch around the routes by protocol.
func (s *Server) wrap(routes router.Routes) scope.Application {
	// Consumers log through the server's logger and count the layer
	// messages they drop in its metrics.
	opts := []consumer.LayerOption{consumer.ObserveDrops(s.ops.metrics)}
	if s.conv != nil {
		opts = append(opts, consumer.WithConversations(s.conv))
	}
	withConsumers := router.Chain(consumer.WithLogger(s.log), consumer.WithLayer(s.layer, opts...))
	return withConsumers(s.ops.metrics.Middleware()(s.st.traffic.Middleware()(s.slow.Middleware()(router.ByProtocol(routes)))))
}

// addChecks makes readiness wait for every adapter to say it serves
// (adapters.Intake.Ready), and for a layer that can be pinged.
func (s *Server) addChecks(backend layer.Layer) {
	for _, h := range s.adapters {
		s.addAdapterChecks(h.Name())
	}
	if p, ok := backend.(interface{ Ping(context.Context) error }); ok {
		probe := &layerProbe{l: backend, ping: p.Ping}
		s.ops.health.AddCheck("layer", probe.check)
	}
	s.addIntakeCheck()
}

// addAdapterChecks adds the readiness checks of the adapter named name.
// They look the adapter up when they run, so that they follow it across
// restarts by Reload, and pass once Reload removed it.
func (s *Server) addAdapterChecks(name string) {
	s.mu.Lock()
	added := s.checked[name]
	if s.checked == nil {
		s.checked = map[string]bool{}
	}
	s.checked[name] = true
	s.mu.Unlock()
	if added {
		return // a restarted adapter: its checks follow it
	}
	s.ops.health.AddCheck(name, func(context.Context) error {
		h, _ := s.host(name)
		if h != nil {
			select {
			case <-h.Ready():
				s.forgetRetry(name) // it serves: the next failure backs off from the start
				return h.Health()
			default:
			}
		}
		if err := s.retryError(name); err != nil {
			return err
		}
		if h == nil {
			return nil // removed by a reload
		}
		return errors.New("not connected yet")
	})
	s.ops.health.AddCheck(name+" handlers", func(ctx context.Context) error {
		h, max := s.host(name)
		if h == nil {
			return nil
		}
		return s.slow.Check(name, max)(ctx)
	})
}

// host returns the running Host of the adapter named name and its bound
// on live scopes, or nil.
func (s *Server) host(name string) (*adapters.Host, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.adapters {
		if h.Name() == name {
			return h, s.maxScopes[name]
		}
	}
	return nil, 0
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
func (s *Server) buildAdapters(o options, reg *Registry) []error {
	c := s.cfg
	sections, err := adapterSections(c, o, reg)
	if err != nil {
		return []error{err}
	}
	var errs []error
	s.protos, s.maxScopes = map[string][]string{}, map[string]int{}
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		h, protos, max, err := s.newHost(c, name, sections[name])
		if err != nil {
			errs = append(errs, err)
		}
		if h == nil {
			continue
		}
		s.adapters = append(s.adapters, h)
		s.protos[name], s.maxScopes[name] = protos, max
	}
	s.findWeb()
	return errs
}

// adapterSections returns the sections of the adapters c runs: its own,
// or in worker mode the worker's alone.
func adapterSections(c *Config, o options, reg *Registry) (map[string]*AdapterSection, error) {
	if o.worker == nil {
		return c.Adapters, nil
	}
	sec, err := workerSection(c, o.worker)
	if err != nil {
		return nil, c.errorAt(WorkerKind, err)
	}
	if _, ok := reg.adapters[WorkerKind]; !ok {
		return nil, c.errorAt("", fmt.Errorf("worker mode needs the adapter kind %q registered (adapter kinds: %s)", WorkerKind, orNone(reg.AdapterKinds())))
	}
	return map[string]*AdapterSection{WorkerKind: sec}, nil
}

// newHost builds the adapter of c's section name with the factory s's
// registry holds for its kind, and the Host that runs it; it returns a nil
// Host for a section turned off (once checked) or of an unknown kind
// (Validate reports that), and the protocols it serves and its bound on
// live scopes.
func (s *Server) newHost(c *Config, name string, sec *AdapterSection) (*adapters.Host, []string, int, error) {
	f, ok := s.reg.adapters[sec.Kind]
	if !ok {
		return nil, nil, 0, nil
	}
	setup := adapters.Setup{Logger: s.log, Layer: s.setup, Limiter: s.limiter, Stdin: s.opts.stdin, Stdout: s.opts.stdout}
	a, err := s.build(c, name, sec, f, setup, !enabled(sec.Enabled))
	if err != nil {
		return nil, nil, 0, c.errorAt(name, err)
	}
	if a == nil {
		return nil, nil, 0, nil // turned off: its section checked, nothing built
	}
	sc := mergeScopes(sec.Scopes, c.Scopes)
	h := adapters.NewHost(a,
		adapters.WithScopes(sc),
		adapters.WithLogger(s.log),
		adapters.WithPushes(s.layer),
		adapters.WithObserver(s.ops.metrics),
		adapters.WithBodyBudget(s.bodies),
		s.journalOption(),
	)
	s.setTimers(c, h, sec)
	return h, protocols(a, sec.Kind), cmp.Or(sc.MaxScopes, scope.DefaultMaxScopes), nil
}

// findWeb points s.web at the first Host whose adapter serves WebSocket
// scopes on an address, if any.
func (s *Server) findWeb() {
	s.web = nil
	for _, h := range s.adapters {
		if _, ok := h.Adapter().(interface{ Addr() net.Addr }); ok && slices.Contains(s.protos[h.Name()], "websocket") {
			s.web = h
			return
		}
	}
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
// setup's logger, layer and stdio. With off, for a section turned off, it
// only checks the section: Decode returns adapters.ErrSectionOff once it
// decoded, so that a mistake in its keys is found now rather than the day
// it is turned on, and build returns no adapter and no error.
func (s *Server) build(c *Config, name string, sec *AdapterSection, f adapters.Factory, setup adapters.Setup, off bool) (adapters.Adapter, error) {
	setup.Name = name
	setup.Decode = func(v any) error {
		if err := sec.decode(c.file(), name, v); err != nil || !off {
			return err
		}
		return adapters.ErrSectionOff
	}
	a, err := f(setup)
	switch {
	case off && (err == nil || errors.Is(err, adapters.ErrSectionOff)):
		return nil, nil
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

// Unwrap gives the layer below, whose optional capabilities
// (layer.Subscriber, layer.AllSender) callers find through it.
func (l leasingLayer) Unwrap() layer.Layer { return l.Layer }

// setupLayer is the layer factories get: l, and an adapters.Leaser if the
// backend under it can elect one process among those sharing it.
func setupLayer(l, backend layer.Layer) layer.Layer {
	if rl, ok := backend.(*redis.Layer); ok {
		return leasingLayer{Layer: l, lease: rl.Lease()}
	}
	return l
}

// newLayer builds the configured channel layer; neither backend connects
// before its first use. Both log through the server's logger and count
// the deliveries group sends skip in obs.
func newLayer(cfg *Config, log *slog.Logger, obs layer.SkipObserver) (layer.Layer, error) {
	if cfg.Layer.Backend == "redis" {
		return redis.New(cfg.redisConfig(), redis.WithLogger(log), redis.WithSkipObserver(obs))
	}
	return memory.New(cfg.Layer.Config, memory.WithLogger(log), memory.WithSkipObserver(obs))
}

// WebSocket returns the Host running the adapter that serves WebSocket
// scopes on an address (it has an Addr() net.Addr method, as the built-in
// websocket adapter does), or nil when none runs. Its Ready is closed once
// the adapter listens.
func (s *Server) WebSocket() *adapters.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.web
}

// WebSocketAddr returns where the WebSocket adapter listens, once it is
// ready, or nil.
func (s *Server) WebSocketAddr() net.Addr {
	web := s.WebSocket()
	if web == nil {
		return nil
	}
	return web.Adapter().(interface{ Addr() net.Addr }).Addr()
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
// and returns that failure. ctx ending stops everything at once. Adapters
// that Reload starts run under Run too.
func (s *Server) Run(ctx context.Context) error {
	defer close(s.runDone)
	if err := s.ops.listen(); err != nil {
		s.stopOnce.Do(func() { _ = s.layer.Close(); _ = s.timers.Close() })
		return err
	}
	defer s.ops.close()
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.slow.Run(watch)
	go s.st.page.Run(watch)

	type result struct {
		h   *adapters.Host
		err error
	}
	results := make(chan result)
	retry := make(chan *adapters.Host)
	running := 0 // adapters running, or waiting to be started again
	run := func(h *adapters.Host) {
		ran := make(chan struct{})
		go func() {
			select {
			case <-h.Ready():
				s.logConnected(h)
			case <-ran:
			}
		}()
		app, t := s.timedApp(h)
		if t != nil {
			go s.runTimers(ctx, h, t, ran)
		}
		go func() {
			err := h.Run(ctx, app)
			close(ran)
			results <- result{h, err}
		}()
	}
	s.logStart()
	s.mu.Lock()
	s.running = true
	for _, h := range s.adapters {
		running++
		run(h)
	}
	s.mu.Unlock()
	s.receiveConversations(ctx)
	var first error
	for running > 0 {
		var r result
		select {
		case h := <-s.starts:
			running++
			run(h)
			s.receiveConversations(ctx) // a reload may add an adapter that serves conversations
			continue
		case h := <-retry:
			if h == nil {
				running--
			} else {
				run(h)
			}
			continue
		case r = <-results:
		}
		if r.err == nil || errors.Is(r.err, adapters.ErrStopped) {
			s.log.Info("adapter disconnected", "adapter", r.h.Name(), "reason", "stopped")
		} else {
			s.log.Warn("adapter disconnected", "adapter", r.h.Name(), "err", r.err)
		}
		if r.err == nil || errors.Is(r.err, adapters.ErrStopped) || first != nil {
			running--
			continue
		}
		if ctx.Err() == nil && retryable(r.err) && s.retryLater(ctx, r.h, r.err, retry) {
			continue // still counted: it starts again
		}
		running--
		first = fmt.Errorf("%s: %w", r.h.Name(), r.err)
		if ctx.Err() == nil {
			s.log.Error("adapter failed; shutting the others down", "err", first)
			go func() {
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.grace())
				defer cancel()
				_ = s.Shutdown(sctx)
			}()
		}
	}
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.stopConversations(ctx)
	s.closeLayer(context.Background())
	return first
}

func (s *Server) grace() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	s.mu.Lock()
	s.stopping = true
	hosts := slices.Clone(s.adapters)
	s.mu.Unlock()
	s.stopRetry.Do(func() { close(s.stopRetries) })
	// Conversation channels stop being received first: what arrives for
	// them from now on waits in the layer for the next process.
	s.stopConversations(ctx)
	var wg sync.WaitGroup
	errs := make([]error, len(hosts))
	for i, a := range hosts {
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
		s.stopOnce.Do(func() { _ = s.layer.Close(); _ = s.timers.Close() })
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
	return newLevelLogger(c, w, new(slog.LevelVar))
}

// newLevelLogger is NewLogger filtering by level, which it sets to c's
// level; setting level later changes what the logger writes.
func newLevelLogger(c LogConfig, w io.Writer, level *slog.LevelVar) (*slog.Logger, error) {
	l, err := parseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	level.Set(l)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		opts.ReplaceAttr = durationText
	}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// durationText writes a duration as text ("1.5s"), as the text format
// does, rather than as the nanoseconds JSON would show.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
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
