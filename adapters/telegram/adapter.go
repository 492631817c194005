package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Protocol is the scope type of Telegram conversations.
const Protocol = "telegram"

// Option configures what an Adapter gets as code rather than data.
type Option func(*options)

type options struct {
	log   *slog.Logger
	hc    *http.Client
	clock Clock
	lease Lease
	obs   adapters.Observer
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHTTPClient sets the HTTP client for Bot API calls. Default: a client
// whose transport keeps max_inflight connections to the API alive.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.hc = c } }

// WithClock sets the clock of rate limits, backoff and leases. Default:
// the wall clock.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithLease makes processes sharing l elect one poller for the token; the
// others wait and take over when it stops renewing. Default: none (this
// process polls).
func WithLease(l Lease) Option { return func(o *options) { o.lease = l } }

// Adapter is the Telegram adapter. It implements adapters.Runner,
// adapters.Pusher and scope.Protocol.
type Adapter struct {
	cfg     Config
	ownHC   bool // the HTTP client is the adapter's: close its idle connections on exit
	log     *slog.Logger
	clock   Clock
	lease   Lease
	observe adapters.Report
	api     *api
	lim     *limiter
	dedupe  *dedupe
	self    atomic.Pointer[scope.User]
	conns   sync.Map // *scope.Scope → scope.Conn of its live instance
	bg      sync.WaitGroup
	hookM   atomic.Pointer[scope.Manager] // set while webhook mode accepts updates

	stopOnce, stoppedOnce sync.Once
	stopping              chan struct{} // closed when Shutdown begins
	stopped               chan struct{} // closed when Shutdown has finished
	stopCtx               context.Context
	stopCancel            context.CancelFunc

	readyOnce sync.Once
	ready     chan struct{} // closed once serving: see Ready

	mu            sync.Mutex
	started       bool
	m             *scope.Manager
	cancelFetch   context.CancelFunc
	cancelDeliver context.CancelFunc
	deliverCtx    context.Context
	intakeDone    chan struct{}
}

var (
	_ adapters.Runner  = (*Adapter)(nil)
	_ adapters.Pusher   = (*Adapter)(nil)
	_ scope.Protocol    = (*Adapter)(nil)
	_ scope.EndNotifier = (*Adapter)(nil)
)

// New returns an adapter for cfg. It validates cfg and dials nothing: the
// token is checked (getMe) when Run starts.
func New(cfg Config, opts ...Option) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	o := options{log: slog.Default(), clock: wallClock{}}
	own := false
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.MaxInflight + 2 // the sends plus the poll
		o.hc = &http.Client{Transport: t}
		own = true
	}
	a := &Adapter{cfg: cfg, log: o.log, clock: o.clock, lease: o.lease,
		observe:  adapters.NewReport(o.obs, cfg.Name),
		api:      newAPI(string(cfg.Token), cfg.Endpoint, o.hc, cfg.MaxInflight, cfg.RequestTimeout),
		lim:      newLimiter(cfg.Limits, o.clock),
		dedupe:   newDedupe(cfg.DedupeWindow),
		stopping: make(chan struct{}), stopped: make(chan struct{}), ready: make(chan struct{}), ownHC: own}
	if a.observe.On() {
		// Bound once, so that a wait costs no allocation.
		a.lim.waited = a.observe.Waited
	}
	a.stopCtx, a.stopCancel = context.WithCancel(context.Background())
	return a, nil
}

// Name implements adapters.Runner.
func (a *Adapter) Name() string { return a.cfg.Name }

// Bot returns the bot's identity, known once Run has called getMe.
func (a *Adapter) Bot() scope.User { return a.botUser() }

// Ready returns a channel closed once the adapter is serving: getMe
// succeeded (so Bot is known) and then
//
//   - in polling mode without a Lease, polling has begun;
//   - with a Lease, the lease answered, held or not: a process standing
//     by for the lease another one holds is healthy, and takes over when
//     that one stops, so it is ready too;
//   - in webhook mode, updates are accepted, webhook.listen is listening
//     if set, and setWebhook succeeded if webhook.url is set.
//
// It is closed once and stays closed; it is never closed if Run fails
// or is stopped first (a refused token, a port taken). A readiness probe
// waits on it.
func (a *Adapter) Ready() <-chan struct{} { return a.ready }

func (a *Adapter) markReady() { a.readyOnce.Do(func() { close(a.ready) }) }

func (a *Adapter) botUser() scope.User {
	if u := a.self.Load(); u != nil {
		return *u
	}
	return scope.User{}
}

// Run serves app: it checks the token with getMe, then polls or serves the
// webhook until Shutdown (returning adapters.ErrStopped), ctx ends (a hard
// stop: scopes get their disconnect with a cancelled context) or Telegram
// refuses the token (an error matching ErrUnauthorized).
func (a *Adapter) Run(ctx context.Context, app scope.Application) error {
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return ErrRunning
	}
	a.started = true
	a.mu.Unlock()
	defer a.closeIdle()
	ictx, cancel := context.WithCancel(ctx)
	stopAF := context.AfterFunc(a.stopCtx, cancel)
	err := a.identify(ictx)
	stopAF()
	cancel()
	if err != nil {
		if a.stopCtx.Err() != nil && ctx.Err() == nil {
			a.closeStopped()
			return adapters.ErrStopped
		}
		return err
	}
	m, err := scope.NewManager(a.wrap(app), a, a.cfg.Scopes, scope.WithLogger(a.log))
	if err != nil {
		return fmt.Errorf("telegram: %w", err)
	}
	deliverCtx, cancelDeliver := context.WithCancel(ctx)
	fetchCtx, cancelFetch := context.WithCancel(deliverCtx)
	defer cancelFetch()
	defer cancelDeliver()
	done := make(chan struct{})
	a.mu.Lock()
	if a.stopCtx.Err() != nil {
		a.mu.Unlock()
		_ = m.Close()
		a.closeStopped()
		return adapters.ErrStopped
	}
	a.m, a.cancelFetch, a.cancelDeliver, a.deliverCtx, a.intakeDone = m, cancelFetch, cancelDeliver, deliverCtx, done
	a.mu.Unlock()

	var fatal error
	go func() {
		defer close(done)
		fatal = a.intake(fetchCtx, deliverCtx, m)
	}()
	select {
	case <-a.stopped:
		return adapters.ErrStopped
	case <-done:
		if fatal != nil && ctx.Err() == nil {
			a.log.Error("telegram: stopping", "adapter", a.cfg.Name, "err", fatal)
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
			defer scancel()
			_ = m.Shutdown(sctx)
			a.bg.Wait()
			return fatal
		}
		// Intake ended without failing: Shutdown stopped it, and finishes
		// the rest, unless ctx ends first.
		select {
		case <-a.stopped:
			return adapters.ErrStopped
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	cancelDeliver()
	<-done
	_ = m.Close()
	a.bg.Wait()
	return ctx.Err()
}

// Shutdown stops taking updates, lets parked updates reach their scopes,
// confirms what was accepted to Telegram, then ends every scope with
// scope.ReasonShutdown after what it has queued, and waits until ctx
// ends.
func (a *Adapter) Shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() { close(a.stopping); a.stopCancel() })
	a.mu.Lock()
	m, cancelFetch, cancelDeliver, done := a.m, a.cancelFetch, a.cancelDeliver, a.intakeDone
	a.mu.Unlock()
	if m == nil {
		a.closeStopped()
		return nil
	}
	cancelFetch()
	select {
	case <-done:
	case <-ctx.Done():
		cancelDeliver()
		<-done
	}
	err := m.Shutdown(ctx)
	a.bg.Wait()
	cancelDeliver()
	a.closeStopped()
	return err
}

// closeIdle closes the kept-alive connections of the adapter's own HTTP
// client, which would otherwise outlive Run.
func (a *Adapter) closeIdle() {
	if a.ownHC {
		a.api.hc.CloseIdleConnections()
	}
}

func (a *Adapter) closeStopped() { a.stoppedOnce.Do(func() { close(a.stopped) }) }

// identify calls getMe until it succeeds, Telegram refuses the token, or
// ctx ends.
func (a *Adapter) identify(ctx context.Context) error {
	backoff := a.cfg.Retry.MinBackoff
	for {
		res, err := a.api.call(ctx, "getMe", nil, nil)
		if err == nil {
			var me tgbotapi.User
			if err := json.Unmarshal(res, &me); err != nil {
				return fmt.Errorf("telegram: getMe: %w", err)
			}
			a.self.Store(&scope.User{ID: strconv.FormatInt(me.ID, 10), Name: me.FirstName, Username: me.UserName})
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		var ae *APIError
		if errors.As(err, &ae) && !ae.retryable() {
			return err
		}
		a.log.Warn("telegram: getMe failed; retrying", "adapter", a.cfg.Name, "err", err, "backoff", backoff)
		if err := sleep(ctx, a.clock, backoff); err != nil {
			return err
		}
		a.observe.Retry()
		backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
	}
}

func (a *Adapter) intake(fetch, ctx context.Context, m *scope.Manager) error {
	if a.cfg.Mode == ModeWebhook {
		return a.serveWebhook(fetch, ctx, m)
	}
	return a.pollTerms(fetch, ctx, m)
}

// wrap keeps each live instance's Conn, so that an outbound call's error
// can be posted back to the instance that made it.
func (a *Adapter) wrap(app scope.Application) scope.Application {
	return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		inst, err := app.NewInstance(ctx, s, conn)
		if err == nil {
			a.conns.Store(s, conn)
		}
		return inst, err
	})
}

// Ended implements scope.EndNotifier.
func (a *Adapter) Ended(s *scope.Scope, _ scope.Reason, _ error) { a.conns.Delete(s) }

// Disconnect implements scope.Protocol.
func (a *Adapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return Disconnect{Reason: r}
}

// Send implements scope.Protocol: it makes the Bot API call of an
// outbound event, under the rate limits and with retries. A call Telegram
// refuses for good (400, 403) is logged and comes back to the instance as
// an Error event rather than failing the handler: a user blocking the bot
// should not end the conversation's instance with an error.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	c, err := a.build(ev, s)
	if err != nil {
		return err
	}
	err = a.do(ctx, c)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == 400 || ae.Code == 403) {
		a.report(s, c, ae)
		return nil
	}
	return err
}

// Push implements adapters.Pusher: it sends an outbound event that names
// its chat, without a scope. Errors, Telegram's refusals included, are
// returned.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	c, err := a.build(ev, nil)
	if err != nil {
		return err
	}
	return a.do(ctx, c)
}

// report logs a refused call and posts its Error to the scope's instance.
func (a *Adapter) report(s *scope.Scope, c outCall, ae *APIError) {
	a.log.Warn("telegram: call refused", "adapter", a.cfg.Name, "scope", s.String(), "method", c.method,
		"chat", c.chat, "code", ae.Code, "description", ae.Description)
	v, ok := a.conns.Load(s)
	if !ok {
		return
	}
	conn := v.(scope.Conn)
	ev := Error{Event: c.event, Method: c.method, Code: ae.Code, Description: ae.Description, ChatID: c.chat}
	// Send runs inside the instance's own handler, so waiting here for
	// room in its inbox could wait forever: try, and post later if full.
	if err := conn.Post(tryCtx, ev); errors.Is(err, context.Canceled) {
		a.mu.Lock()
		ctx := a.deliverCtx
		a.mu.Unlock()
		if ctx == nil {
			ctx = a.stopCtx
		}
		a.bg.Add(1)
		go func() {
			defer a.bg.Done()
			if err := conn.Post(ctx, ev); err != nil && !errors.Is(err, scope.ErrEnded) {
				a.log.Warn("telegram: error event not delivered", "adapter", a.cfg.Name, "scope", s.String(), "err", err)
			}
		}()
	}
}
