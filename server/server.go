package server

import (
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
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/adapters/worker"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/layer/redis"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Server runs the adapters, routes and channel layer of a Config.
type Server struct {
	cfg      *Config
	log      *slog.Logger
	layer    layer.Layer
	app      scope.Application
	adapters []adapters.Runner
	ws       *adapters.Host // runs the WebSocket adapter; nil when it is off
	ops      *opsServer

	// pushing runs the push loops; stopPush ends them when intake stops.
	pushing  sync.WaitGroup
	stopPush context.CancelFunc
	mu       sync.Mutex

	stopOnce sync.Once
}

// Option configures a Server with what a file cannot hold.
type Option func(*options)

type options struct {
	log     *slog.Logger
	stdin   io.Reader
	stdout  io.Writer
	worker  []string // worker mode: serve these channels only
	wsOpts  []websocket.Option
	tgOpts  []telegram.Option
	slkOpts []slack.Option
}

// WithLogger sets the server's logger. Default: one built from the
// config's log section, writing to standard error.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithStdio sets the console adapter's input and output. Default: the
// process's standard input and output.
func WithStdio(in io.Reader, out io.Writer) Option {
	return func(o *options) { o.stdin, o.stdout = in, out }
}

// WithAdapterOptions passes options on to the adapters, such as a listener
// for the WebSocket adapter or an HTTP client for Telegram.
func WithAdapterOptions(ws []websocket.Option, tg []telegram.Option, slk []slack.Option) Option {
	return func(o *options) { o.wsOpts, o.tgOpts, o.slkOpts = ws, tg, slk }
}

// AsWorker makes the server a worker that serves the named layer channels
// with the "channel" routes, and runs no other adapter (Django Channels'
// runworker).
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
	opsrv, err := newOps(cfg.Ops.Addr)
	if err != nil {
		return nil, err
	}
	s.ops = opsrv
	backend, err := newLayer(cfg)
	if err != nil {
		if len(errs) == 0 { // else Validate said why already
			errs = append(errs, cfg.errorAt("layer", err))
		}
		return nil, sortErrors(errs)
	}
	l := opsrv.metrics.Layer()(backend)
	s.layer = l
	if rl, ok := backend.(*redis.Layer); ok {
		// Processes on one Redis elect a single Telegram poller, since
		// Telegram refuses two pollers of a token.
		o.tgOpts = append([]telegram.Option{telegram.WithLease(rl.Lease())}, o.tgOpts...)
	}
	b := &routeBuilder{reg: reg, deps: Deps{Layer: l, Logger: o.log}, file: cfg.file(), lines: cfg.lines}
	routes := router.Routes{}
	for _, proto := range slices.Sorted(maps.Keys(cfg.Routes)) {
		b.proto = proto
		if app := b.build("routes."+proto, cfg.Routes[proto]); app != nil {
			routes[proto] = app
		}
	}
	errs = append(errs, b.errs...)
	s.app = consumer.WithLayer(l)(opsrv.metrics.Middleware()(router.ByProtocol(routes)))
	adapterErrs := s.buildAdapters(o, reg, opsrv.metrics)
	errs = append(errs, adapterErrs...)
	if len(adapterErrs) == 0 && len(s.adapters) == 0 {
		errs = append(errs, cfg.errorAt("", errors.New("no adapter is enabled: add a websocket, telegram, slack or console section, or one of a registered adapter kind")))
	}
	errs = append(errs, s.checkRoutes(reg, b.bots)...)
	if len(errs) > 0 {
		_ = l.Close()
		return nil, sortErrors(errs)
	}
	s.addChecks(backend)
	return s, nil
}

// addChecks makes readiness wait for every adapter that can say it is
// connected, and for a layer that can be pinged.
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
	for _, a := range s.adapters {
		if r, ok := a.(interface{ Ready() <-chan struct{} }); ok {
			s.ops.health.AddCheck(a.Name(), ready(r.Ready(), "not connected yet"))
		}
	}
	if p, ok := backend.(interface{ Ping(context.Context) error }); ok {
		s.ops.health.AddCheck("layer", p.Ping)
	}
}

// OpsAddr returns where /metrics, /healthz and /readyz are served, or nil.
func (s *Server) OpsAddr() net.Addr { return s.ops.Addr() }

// buildAdapters builds the enabled adapters: the fixed sections, and the
// sections of adapter kinds registered in reg, each run by an
// adapters.Host. It returns every error it finds.
func (s *Server) buildAdapters(o options, reg *Registry, obs adapters.Observer) []error {
	c := s.cfg
	var errs []error
	channels := o.worker
	if o.worker == nil && c.Worker != nil {
		channels = c.Worker.Channels
	}
	if len(channels) > 0 {
		if c.Routes["channel"] == nil {
			errs = append(errs, c.errorAt("routes", errors.New(`worker: routes.channel is missing: name the bot that serves each channel`)))
		} else if w, err := worker.New(s.layer, channels); err != nil {
			errs = append(errs, c.errorAt("worker", err))
		} else {
			s.adapters = append(s.adapters, adapters.NewHost(w, adapters.WithScopes(w.ScopeConfig(c.Scopes)),
				adapters.WithLogger(s.log), adapters.WithObserver(obs)))
		}
	}
	if o.worker != nil {
		return errs // a worker process runs no other adapter
	}
	if w := c.WebSocket; w != nil && enabled(w.Enabled) {
		a, err := websocket.New(w.Config, o.wsOpts...)
		if err != nil {
			errs = append(errs, c.errorAt("websocket", err))
		} else {
			s.ws = adapters.NewHost(a, adapters.WithScopes(a.ScopeConfig(mergeScopes(w.Scopes, c.Scopes))),
				adapters.WithLogger(s.log), adapters.WithObserver(obs))
			s.adapters = append(s.adapters, s.ws)
		}
	}
	if t := c.Telegram; t != nil && enabled(t.Enabled) {
		a, err := telegram.New(t.Config, append([]telegram.Option{telegram.WithLogger(s.log)}, o.tgOpts...)...)
		if err != nil {
			errs = append(errs, c.errorAt("telegram", err))
		} else {
			s.adapters = append(s.adapters, adapters.NewHost(a, adapters.WithScopes(mergeScopes(t.Scopes, c.Scopes)),
				adapters.WithLogger(s.log), adapters.WithPushes(s.layer), adapters.WithObserver(obs)))
		}
	}
	if sl := c.Slack; sl != nil && enabled(sl.Enabled) {
		cfg, scopes := c.slackConfig()
		a, err := slack.New(cfg, append([]slack.Option{slack.WithLogger(s.log)}, o.slkOpts...)...)
		if err != nil {
			errs = append(errs, c.errorAt("slack", err))
		} else {
			s.adapters = append(s.adapters, adapters.NewHost(a, adapters.WithScopes(scopes), adapters.WithLogger(s.log),
				adapters.WithPushes(s.layer), adapters.WithObserver(obs)))
		}
	}
	if cn := c.Console; cn != nil && enabled(cn.Enabled) {
		s.adapters = append(s.adapters, adapters.NewHost(console.New(o.stdin, o.stdout, cn.Config),
			adapters.WithScopes(mergeScopes(cn.Scopes, c.Scopes)), adapters.WithLogger(s.log),
			adapters.WithPushes(s.layer), adapters.WithObserver(obs)))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Adapters)) {
		sec := c.Adapters[name]
		f, ok := reg.adapters[sec.Kind]
		if !ok || !enabled(sec.Enabled) {
			continue // Validate reported an unknown kind
		}
		h, err := s.host(name, sec, f, o, obs)
		if err != nil {
			errs = append(errs, c.errorAt(name, err))
			continue
		}
		s.adapters = append(s.adapters, h)
	}
	return errs
}

// host builds the adapter of section name with its factory f, and the Host
// that runs it.
func (s *Server) host(name string, sec *AdapterSection, f adapters.Factory, o options, obs adapters.Observer) (*adapters.Host, error) {
	a, err := f(adapters.Setup{
		Name:   name,
		Decode: func(v any) error { return sec.decode(s.cfg.file(), name, v) },
		Logger: s.log,
		Layer:  s.layer,
		Stdin:  o.stdin,
		Stdout: o.stdout,
	})
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
	return adapters.NewHost(a,
		adapters.WithScopes(mergeScopes(sec.Scopes, s.cfg.Scopes)),
		adapters.WithLogger(s.log),
		adapters.WithPushes(s.layer),
		adapters.WithObserver(obs),
	), nil
}

// newLayer builds the configured channel layer; neither backend connects
// before its first use.
func newLayer(cfg *Config) (layer.Layer, error) {
	if cfg.Layer.Backend == "redis" {
		return redis.New(cfg.redisConfig())
	}
	return memory.New(cfg.Layer.Config)
}

// WebSocket returns the Host running the WebSocket adapter, or nil when it
// is off. Its Ready is closed once the adapter listens.
func (s *Server) WebSocket() *adapters.Host { return s.ws }

// WebSocketAddr returns where the WebSocket adapter listens, once it is
// ready, or nil.
func (s *Server) WebSocketAddr() net.Addr {
	if s.ws == nil {
		return nil
	}
	return s.ws.Adapter().(*websocket.Adapter).Addr()
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
	pctx, stopPush := context.WithCancel(ctx)
	s.mu.Lock()
	s.stopPush = stopPush
	s.mu.Unlock()
	for _, a := range s.adapters {
		if _, hosted := a.(*adapters.Host); hosted {
			continue // a Host takes its own pushes
		}
		if _, ok := a.(adapters.Pusher); ok {
			s.pushing.Go(func() { s.push(pctx, a) })
		}
	}
	defer func() { stopPush(); s.pushing.Wait() }()
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
	s.mu.Lock()
	stopPush := s.stopPush
	s.mu.Unlock()
	if stopPush != nil {
		stopPush() // intake first: pushes, then the adapters
		if !waitUntil(ctx, s.pushing.Wait) {
			s.log.Warn("push loops still running at the shutdown deadline")
		}
	}
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
		s.log.Warn("adapters still stopping at the shutdown deadline; leaving them")
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
