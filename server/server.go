package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

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

// New builds a server from cfg and the bots in reg. It validates the
// config and builds every part without connecting anything: Run connects.
func New(cfg *Config, reg *Registry, opts ...Option) (*Server, error) {
	if err := cfg.Validate(reg); err != nil {
		return nil, err
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
			return nil, err
		}
		o.log = l
	}
	s := &Server{cfg: cfg, log: o.log}
	opsrv, err := newOps(cfg.Ops.Addr)
	if err != nil {
		return nil, err
	}
	s.ops = opsrv
	backend, err := newLayer(cfg)
	if err != nil {
		return nil, cfg.errorAt("layer", err)
	}
	l := opsrv.metrics.Layer()(backend)
	s.layer = l
	if rl, ok := backend.(*redis.Layer); ok {
		// Processes on one Redis elect a single Telegram poller, since
		// Telegram refuses two pollers of a token.
		o.tgOpts = append([]telegram.Option{telegram.WithLease(rl.Lease())}, o.tgOpts...)
	}
	deps := Deps{Layer: l, Logger: o.log}
	routes := router.Routes{}
	for proto, r := range cfg.Routes {
		app, err := r.build("routes."+proto, reg, deps)
		if err != nil {
			return nil, cfg.errorAt("routes."+proto, err)
		}
		routes[proto] = app
	}
	s.app = consumer.WithLayer(l)(opsrv.metrics.Middleware()(router.ByProtocol(routes)))
	if err := s.buildAdapters(o); err != nil {
		_ = l.Close()
		return nil, err
	}
	if len(s.adapters) == 0 {
		_ = l.Close()
		return nil, cfg.errorAt("", errors.New("no adapter is enabled: add a websocket, telegram, slack or console section"))
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

func (s *Server) buildAdapters(o options) error {
	c := s.cfg
	channels := o.worker
	if o.worker == nil && c.Worker != nil {
		channels = c.Worker.Channels
	}
	if len(channels) > 0 {
		if c.Routes["channel"] == nil {
			return c.errorAt("routes", errors.New(`worker: routes.channel is missing: name the bot that serves each channel`))
		}
		w, err := worker.New(s.layer, channels)
		if err != nil {
			return c.errorAt("worker", err)
		}
		s.adapters = append(s.adapters, adapters.NewHost(w, adapters.WithScopes(w.ScopeConfig(c.Scopes)),
			adapters.WithLogger(s.log), adapters.WithObserver(s.ops.metrics)))
	}
	if o.worker != nil {
		return nil // a worker process runs no other adapter
	}
	if w := c.WebSocket; w != nil && enabled(w.Enabled) {
		a, err := websocket.New(w.Config, o.wsOpts...)
		if err != nil {
			return c.errorAt("websocket", err)
		}
		s.ws = adapters.NewHost(a, adapters.WithScopes(a.ScopeConfig(mergeScopes(w.Scopes, c.Scopes))),
			adapters.WithLogger(s.log), adapters.WithObserver(s.ops.metrics))
		s.adapters = append(s.adapters, s.ws)
	}
	if t := c.Telegram; t != nil && enabled(t.Enabled) {
		a, err := telegram.New(t.Config, append([]telegram.Option{telegram.WithLogger(s.log)}, o.tgOpts...)...)
		if err != nil {
			return c.errorAt("telegram", err)
		}
		s.adapters = append(s.adapters, adapters.NewHost(a, adapters.WithScopes(mergeScopes(t.Scopes, c.Scopes)),
			adapters.WithLogger(s.log), adapters.WithPushes(s.layer), adapters.WithObserver(s.ops.metrics)))
	}
	if sl := c.Slack; sl != nil && enabled(sl.Enabled) {
		cfg, scopes := c.slackConfig()
		a, err := slack.New(cfg, append([]slack.Option{slack.WithLogger(s.log)}, o.slkOpts...)...)
		if err != nil {
			return c.errorAt("slack", err)
		}
		s.adapters = append(s.adapters, adapters.NewHost(a, adapters.WithScopes(scopes), adapters.WithLogger(s.log),
			adapters.WithPushes(s.layer), adapters.WithObserver(s.ops.metrics)))
	}
	if cn := c.Console; cn != nil && enabled(cn.Enabled) {
		s.adapters = append(s.adapters, adapters.NewHost(console.New(o.stdin, o.stdout, cn.Config),
			adapters.WithScopes(mergeScopes(cn.Scopes, c.Scopes)), adapters.WithLogger(s.log),
			adapters.WithPushes(s.layer), adapters.WithObserver(s.ops.metrics)))
	}
	return nil
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

// Run runs every adapter until Shutdown, or until one fails for good, in
// which case it shuts the others down and returns that failure. ctx ending
// stops everything at once.
func (s *Server) Run(ctx context.Context) error {
	if err := s.ops.listen(); err != nil {
		s.stopOnce.Do(func() { _ = s.layer.Close() })
		return err
	}
	defer s.ops.close(context.WithoutCancel(ctx))
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
				go func() { _ = s.Shutdown(context.WithoutCancel(ctx)) }()
			}
		}
	}
	s.stopOnce.Do(func() { _ = s.layer.Close() })
	return first
}

// Shutdown stops intake on every adapter, lets conversations drain and end
// with reason shutdown, then closes the channel layer. It returns when all
// that is done or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	stopPush := s.stopPush
	s.mu.Unlock()
	if stopPush != nil {
		stopPush() // intake first: pushes, then the adapters
		s.pushing.Wait()
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
	wg.Wait()
	// The layer goes last, so that a final send from a disconnect handler
	// still arrives.
	s.stopOnce.Do(func() { _ = s.layer.Close() })
	return errors.Join(errs...)
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
