package slack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Adapter connects one Slack app to an application. Make it with New (or
// Factory) and run it with an adapters.Host, which keeps its scopes, its
// lifecycle, its readiness and its pushes.
type Adapter struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	clock  Clock
	ping   time.Duration
	api    *slackapi.Client
	seen   *dedupe
	limits *limits
	shared *sharedLimits // nil: this process's limits alone
	// report is the Host's observer, known once Serve runs.
	report atomic.Pointer[adapters.Report]

	mu  sync.Mutex
	bot Identity         // set by Serve from auth.test
	in  *adapters.Intake // set while Serve takes traffic
	// serving is closed once Serve first takes traffic.
	serving     chan struct{}
	servingOnce sync.Once
}

// Identity is the bot's own identity, from auth.test.
type Identity struct {
	UserID string // the bot user, "U…"
	Name   string // the bot user's name
	BotID  string // the bot, "B…"
	TeamID string
}

var (
	_ adapters.Adapter      = (*Adapter)(nil)
	_ adapters.Pusher       = (*Adapter)(nil)
	_ adapters.Disconnecter = (*Adapter)(nil)
	_ adapters.Ender        = (*Adapter)(nil)
	_ adapters.Factory      = Factory
)

// New returns an adapter for cfg. It validates cfg but does not touch the
// network: Serve calls auth.test and connects.
func New(cfg Config, opts ...Option) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	o := options{}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.clock == nil {
		o.clock = wallClock{}
	}
	a := &Adapter{cfg: cfg, log: o.log, client: o.client, clock: o.clock, ping: o.ping, serving: make(chan struct{})}
	a.api = slackapi.New(cfg.BotToken, slackapi.OptionAPIURL(cfg.APIURL),
		slackapi.OptionHTTPClient(o.client), slackapi.OptionAppLevelToken(cfg.AppToken))
	a.seen = newDedupe(cfg.DedupeWindow, cfg.DedupeSize, o.clock.Now)
	a.limits = newLimits(cfg.PostRate, cfg.PostBurst, cfg.RateLimits, o.clock.Now, o.clock.After)
	a.shared = newSharedLimits(o.shared, cfg)
	// Bound once, so that a wait costs no allocation.
	a.limits.waited = a.waited
	return a, nil
}

// Factory builds an adapter from its section of a server's config file:
// the keys of Config, decoded strictly. The section's key names the
// adapter unless the section sets name. A server has nowhere to mount
// Handler, so in http mode listen is required.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	var cfg Config
	if s.Decode != nil {
		if err := s.Decode(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Name == "" {
		cfg.Name = s.Name
	}
	if cfg.Mode == ModeHTTP && cfg.Listen == "" {
		return nil, fmt.Errorf("%w: listen is required in http mode: the address to serve the Slack endpoints on, such as \":3000\"", ErrConfig)
	}
	return New(cfg, WithLogger(s.Logger), WithSharedLimits(s.Limiter))
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.cfg.Name }

// Identity returns the bot's identity, known once Serve has called
// auth.test.
func (a *Adapter) Identity() Identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bot
}

func (a *Adapter) identity() Identity { return a.Identity() }

// Bot returns the bot user, known once Serve has called auth.test: its
// id and name.
func (a *Adapter) Bot() scope.User {
	id := a.Identity()
	return scope.User{ID: id.UserID, Name: id.Name, Username: id.Name}
}

// intake returns the Intake while the adapter takes traffic, or nil.
func (a *Adapter) intake() *adapters.Intake {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.in
}

// observe returns the Host's observer; the zero Report before Serve.
func (a *Adapter) observe() adapters.Report {
	if r := a.report.Load(); r != nil {
		return *r
	}
	return adapters.Report{}
}

func (a *Adapter) waited(d time.Duration) { a.observe().Waited(d) }

// Serve implements adapters.Adapter. It checks the bot token with
// auth.test, then takes Slack's traffic until ctx ends: in socket mode
// over a Socket Mode connection, in http mode on Listen if set (otherwise
// through Handler, mounted elsewhere). It says it is ready once Slack said
// hello on the socket, or once the endpoints are served. After ctx ends
// it takes nothing new, and waits, until in.Grace ends at most, for the
// events it took to be handled or to reach their deadline, so that their
// acknowledgements go out.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	auth, err := a.api.AuthTestContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("slack: auth.test: %w", err)
	}
	report := in.Report()
	a.report.Store(&report)
	a.mu.Lock()
	a.bot = Identity{UserID: auth.UserID, Name: auth.User, BotID: auth.BotID, TeamID: auth.TeamID}
	a.in = in
	a.mu.Unlock()
	a.servingOnce.Do(func() { close(a.serving) })
	// From the moment Shutdown begins, new requests are turned away.
	stop := context.AfterFunc(ctx, func() {
		a.mu.Lock()
		a.in = nil
		a.mu.Unlock()
	})
	defer func() {
		if stop() {
			a.mu.Lock()
			a.in = nil
			a.mu.Unlock()
		}
	}()
	a.log.Info("slack: connected", "adapter", a.cfg.Name, "team", auth.TeamID, "bot_user", auth.UserID, "mode", a.cfg.Mode)
	if a.cfg.Mode == ModeSocket {
		return a.serveSocket(ctx, in)
	}
	return a.serveHTTP(ctx, in)
}

// Disconnect implements adapters.Disconnecter.
func (a *Adapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return Disconnect{Reason: r}
}

// Ended implements adapters.Ender.
func (a *Adapter) Ended(s *scope.Scope, _ scope.Reason, err error) {
	if err != nil {
		a.log.Warn("slack: conversation refused", "adapter", a.cfg.Name, "scope", s.String(), "err", err)
	}
}
