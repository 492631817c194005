package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Adapter connects one Slack app to an application. Make it with New.
type Adapter struct {
	cfg     Config
	log     *slog.Logger
	client  *http.Client
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time
	ping    time.Duration
	api     *slackapi.Client
	seen    *dedupe
	limits  *limits
	observe adapters.Report

	mu      sync.Mutex
	m       *scope.Manager // set by Run
	bot     Identity       // set by Run from auth.test
	stopped bool           // Shutdown was called
	started bool           // Run was called

	managed  chan struct{} // closed once Run has a manager
	ready    chan struct{} // closed once connected and serving: see Ready
	readyOne sync.Once
	stopping chan struct{} // closed by Shutdown
	stopOnce sync.Once
	drained  chan struct{} // closed once Shutdown has ended every scope
	drainOne sync.Once

	// bg runs the error reports posted back to scopes; they outlive the
	// Send that failed, and Shutdown waits for them.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc
}

// Identity is the bot's own identity, from auth.test.
type Identity struct {
	UserID string // the bot user, "U…"
	BotID  string // the bot, "B…"
	TeamID string
}

var (
	_ adapters.Runner  = (*Adapter)(nil)
	_ adapters.Pusher   = (*Adapter)(nil)
	_ scope.Protocol    = (*Adapter)(nil)
	_ scope.EndNotifier = (*Adapter)(nil)
)

// New returns an adapter for cfg. It validates cfg but does not touch the
// network: Run calls auth.test and connects.
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
	if o.now == nil {
		o.now, o.sleep = time.Now, time.After
	}
	a := &Adapter{
		cfg: cfg, log: o.log, client: o.client, now: o.now, after: o.sleep, ping: o.ping,
		observe:  adapters.NewReport(o.obs, cfg.Name),
		managed:  make(chan struct{}),
		ready:    make(chan struct{}),
		stopping: make(chan struct{}),
		drained:  make(chan struct{}),
	}
	a.api = slackapi.New(cfg.BotToken, slackapi.OptionAPIURL(cfg.APIURL),
		slackapi.OptionHTTPClient(o.client), slackapi.OptionAppLevelToken(cfg.AppToken))
	a.seen = newDedupe(cfg.DedupeWindow, cfg.DedupeSize, o.now)
	a.limits = newLimits(cfg.PostRate, cfg.PostBurst, cfg.RateLimits, o.now, o.sleep)
	if a.observe.On() {
		// Bound once, so that a wait costs no allocation.
		a.limits.waited = a.observe.Waited
	}
	a.bgCtx, a.bgCancel = context.WithCancel(context.Background())
	return a, nil
}

// Name implements adapters.Runner.
func (a *Adapter) Name() string { return a.cfg.Name }

// Identity returns the bot's identity, known once Run has called
// auth.test.
func (a *Adapter) Identity() Identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bot
}

func (a *Adapter) identity() Identity { return a.Identity() }

// Ready returns a channel closed once the adapter is connected and
// serving: auth.test succeeded and, in socket mode, Slack said hello on
// the Socket Mode connection, or, in http mode, the endpoints are served
// (on Listen, once it is listening; without Listen, at once, Handler
// being mounted elsewhere). It is closed once and stays closed: a later
// reconnect does not reopen it, since the client reconnects by itself.
// It is never closed if Run fails first (invalid_auth, a port taken).
// A readiness probe waits on it.
func (a *Adapter) Ready() <-chan struct{} { return a.ready }

func (a *Adapter) markReady() { a.readyOne.Do(func() { close(a.ready) }) }

func (a *Adapter) manager() *scope.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m
}

// Run checks the bot token with auth.test, then serves app until Shutdown
// (returning adapters.ErrStopped) or ctx ends. In socket mode it keeps a
// Socket Mode connection open; in http mode it serves Handler on Listen, if
// set.
func (a *Adapter) Run(ctx context.Context, app scope.Application) error {
	a.mu.Lock()
	a.started = true
	a.mu.Unlock()
	auth, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack: auth.test: %w", err)
	}
	m, err := scope.NewManager(app, a, a.cfg.Scopes, scope.WithLogger(a.log))
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		_ = m.Close()
		return adapters.ErrStopped
	}
	a.m = m
	a.bot = Identity{UserID: auth.UserID, BotID: auth.BotID, TeamID: auth.TeamID}
	a.mu.Unlock()
	close(a.managed)
	a.log.Info("slack: connected", "adapter", a.cfg.Name, "team", auth.TeamID, "bot_user", auth.UserID, "mode", a.cfg.Mode)

	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	errc := make(chan error, 1)
	go func() {
		if a.cfg.Mode == ModeSocket {
			errc <- a.runSocket(intake)
		} else {
			errc <- a.serveHTTP(intake)
		}
	}()
	select {
	case <-a.stopping:
		stopIntake()
		<-errc
		select {
		case <-a.drained:
		case <-ctx.Done():
			return ctx.Err()
		}
		return adapters.ErrStopped
	case err := <-errc:
		// Intake failed for good (invalid_auth, the port is taken).
		_ = m.Close()
		a.stopBackground()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	case <-ctx.Done():
		stopIntake()
		<-errc
		_ = m.Close()
		a.stopBackground()
		return ctx.Err()
	}
}

// Shutdown implements adapters.Runner: it stops intake (events not yet
// acknowledged are left for Slack to retry), lets every scope handle what
// it has queued, ends them with scope.ReasonShutdown and waits for them.
func (a *Adapter) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	a.stopped = true
	m := a.m
	a.mu.Unlock()
	a.stopOnce.Do(func() { close(a.stopping) })
	var err error
	if m != nil {
		err = m.Shutdown(ctx)
	}
	a.stopBackground()
	a.drainOne.Do(func() { close(a.drained) })
	return err
}

func (a *Adapter) stopBackground() {
	a.bgCancel()
	a.bg.Wait()
}

// Disconnect implements scope.Protocol.
func (a *Adapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return Disconnect{Reason: r}
}

// Ended implements scope.EndNotifier.
func (a *Adapter) Ended(s *scope.Scope, _ scope.Reason, err error) {
	if err != nil {
		a.log.Warn("slack: conversation refused", "adapter", a.cfg.Name, "scope", s.String(), "err", err)
	}
}

// errBusy: the same event is being delivered by another request.
var errBusy = errors.New("slack: event already in delivery")

// accept delivers one update to its scope and returns once the scope's
// inbox took it: only then may it be acknowledged. Updates already
// accepted are acknowledged without a second delivery. The wait for room
// in a full inbox is bounded by AckTimeout, so that a slow conversation
// answers Slack in time (and Slack retries) instead of stalling.
func (a *Adapter) accept(ctx context.Context, in *inbound) error {
	if in.ev == nil {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, a.cfg.AckTimeout)
	defer cancel()
	// A request may come in while Run is still calling auth.test.
	select {
	case <-a.managed:
	case <-a.stopping:
		return scope.ErrClosed
	case <-dctx.Done():
		return dctx.Err()
	}
	m := a.manager()
	if in.id != "" {
		switch a.seen.claim(in.id) {
		case claimAccepted:
			return nil
		case claimBusy:
			return errBusy
		}
	}
	err := m.Deliver(dctx, a.key(in), in.ev, a.newScope(in))
	if in.id != "" {
		a.seen.done(in.id, err == nil)
	}
	return err
}
