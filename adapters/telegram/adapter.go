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
	"github.com/switchboard-bots/switchboard/ratelimit"
	"github.com/switchboard-bots/switchboard/scope"
)

// Protocol is the scope type of Telegram conversations.
const Protocol = "telegram"

// Option configures what an Adapter gets as code rather than data.
type Option func(*options)

type options struct {
	log    *slog.Logger
	hc     *http.Client
	clock  Clock
	lease  Lease
	obs    adapters.Observer
	shared ratelimit.Limiter
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

// Adapter is the Telegram adapter, run by an adapters.Host. It implements
// adapters.Adapter, adapters.Pusher and adapters.Disconnecter.
type Adapter struct {
	cfg    Config
	ownHC  bool // the HTTP client is the adapter's: close its idle connections on exit
	log    *slog.Logger
	clock  Clock
	lease  Lease
	api    *api
	lim    *limiter
	shared *sharedLimits                   // nil: this process's limits alone
	report atomic.Pointer[adapters.Report] // the Host's observer, set by Serve
	self   atomic.Pointer[scope.User]
	served atomic.Bool

	// handled remembers the update_ids handled lately, so that an update
	// Telegram sends again (a poll from below a handled one, a webhook
	// retried after a timeout) is not handled twice.
	handled *dedupe
	// in is the Intake while Serve runs: the webhook handler delivers to
	// it, and refusals are posted through it when error_events is on.
	in      atomic.Pointer[adapters.Intake]
	flights flights        // webhook updates being handled
	posts   sync.WaitGroup // error events waiting for room in an inbox
}

var (
	_ adapters.Adapter      = (*Adapter)(nil)
	_ adapters.Pusher       = (*Adapter)(nil)
	_ adapters.Disconnecter = (*Adapter)(nil)
	_ event.ChatMessage     = Message{}
)

// New returns an adapter for cfg. It validates cfg and dials nothing: the
// token is checked (getMe) when Serve starts.
func New(cfg Config, opts ...Option) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	o := options{clock: scope.WallClock{}}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	own := false
	if o.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.MaxInflight + 2 // the sends plus the poll
		o.hc = &http.Client{Transport: t}
		own = true
	}
	a := &Adapter{cfg: cfg, log: o.log, clock: o.clock, lease: o.lease, ownHC: own,
		api:     newAPI(string(cfg.Token), cfg.Endpoint, o.hc, cfg.MaxInflight, cfg.RequestTimeout),
		lim:     newLimiter(cfg.Limits, o.clock),
		shared:  newSharedLimits(o.shared, string(cfg.Token), cfg.Limits),
		handled: newDedupe(cfg.DedupeWindow)}
	a.flights.m = map[int64]*flight{}
	if o.obs != nil {
		a.setReport(adapters.NewReport(o.obs, cfg.Name))
	}
	return a, nil
}

// Factory builds an Adapter from its section of a server's config file:
// the keys of Config. Its name defaults to the section's. When Setup's
// layer is shared by processes (an adapters.Leaser, such as the Redis
// layer), they elect one poller through its Lease (WithLease).
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
	opts := []Option{WithLogger(s.Logger)}
	if l, ok := s.Layer.(adapters.Leaser); ok {
		// Processes on one shared layer elect a single poller, since
		// Telegram refuses two pollers of a token.
		opts = append(opts, WithLease(l.Lease()))
	}
	if s.Limiter != nil {
		opts = append(opts, WithSharedLimits(s.Limiter))
	}
	return New(cfg, opts...)
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.cfg.Name }

// Bot returns the bot's identity, known once Serve has called getMe.
func (a *Adapter) Bot() scope.User {
	if u := a.self.Load(); u != nil {
		return *u
	}
	return scope.User{}
}

// Serve implements adapters.Adapter: it checks the token with getMe, then
// polls or serves the webhook until ctx ends or Telegram refuses the token
// (an error matching ErrUnauthorized). It tells in it is ready:
//
//   - in polling mode without a Lease, once getMe succeeded and polling
//     has begun;
//   - with a Lease, once the lease answered, held or not: a process
//     standing by for the lease another one holds is healthy, and takes
//     over when that one stops;
//   - in webhook mode, once updates are accepted, webhook.listen is
//     listening if set, and setWebhook succeeded if webhook.url is set.
//
// An Adapter serves once.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	if !a.served.CompareAndSwap(false, true) {
		return ErrRunning
	}
	if a.report.Load() == nil {
		a.setReport(in.Report())
	}
	defer a.closeIdle()
	if err := a.identify(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before serving
		}
		return err
	}
	a.in.Store(in)
	var err error
	if a.cfg.Mode == ModeWebhook {
		err = a.serveWebhook(ctx, in)
	} else {
		err = a.pollTerms(ctx, in)
	}
	a.posts.Wait()
	return err
}

func (a *Adapter) setReport(r adapters.Report) {
	a.report.Store(&r)
	if r.On() {
		a.lim.waited.Store(&r)
	}
}

// observe returns the adapter's observer: WithObserver's, or the Host's
// once Serve began, or none.
func (a *Adapter) observe() adapters.Report {
	if r := a.report.Load(); r != nil {
		return *r
	}
	return adapters.Report{}
}

// closeIdle closes the kept-alive connections of the adapter's own HTTP
// client, which would otherwise outlive Serve.
func (a *Adapter) closeIdle() {
	if a.ownHC {
		a.api.hc.CloseIdleConnections()
	}
}

// identify calls getMe until it succeeds, Telegram refuses the token, or
// ctx ends.
func (a *Adapter) identify(ctx context.Context) error {
	backoff := a.cfg.Retry.MinBackoff
	for {
		var res json.RawMessage
		err := a.api.call(ctx, "getMe", nil, nil, &res)
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
		if err := adapters.Sleep(ctx, a.clock, backoff); err != nil {
			return err
		}
		a.observe().Retry()
		backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
	}
}

// Disconnect implements adapters.Disconnecter.
func (a *Adapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return Disconnect{Reason: r}
}

// Send implements adapters.Adapter: it makes the Bot API call of an
// outbound event (a telegram.* event, or chat.say) under the rate limits
// and with retries. A call Telegram refuses (403 bot blocked, 400 chat not
// found, a 429 or 5xx that outlasted the retries) returns an
// *adapters.RefusedError wrapping the *APIError; the conversation goes on.
// With error_events on, the refusal is also posted to the scope as a
// telegram.error event.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	c, err := a.build(ev, s)
	if err != nil {
		return err
	}
	err = a.refused(c, a.do(ctx, c))
	if re, ok := errors.AsType[*adapters.RefusedError](err); ok {
		a.log.Warn("telegram: call refused", "adapter", a.cfg.Name, "scope", s.String(), "method", c.method,
			"chat", c.chat, "code", re.Code, "description", re.Description)
		if a.cfg.ErrorEvents {
			a.postError(s, c, re.Err.(*APIError))
		}
	}
	return err
}

// Push implements adapters.Pusher: it sends an outbound event that names
// its chat, without a scope. Errors, Telegram's refusals included (as an
// *adapters.RefusedError), are returned.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	c, err := a.build(ev, nil)
	if err != nil {
		return err
	}
	return a.refused(c, a.do(ctx, c))
}

// refused returns err as an *adapters.RefusedError when Telegram answered
// it, or unchanged (a network failure, a context's end).
func (a *Adapter) refused(c outCall, err error) error {
	ae, ok := errors.AsType[*APIError](err)
	if !ok {
		return err
	}
	return &adapters.RefusedError{Adapter: a.cfg.Name, Method: c.method, Code: strconv.Itoa(ae.Code),
		Description: ae.Description, Temporary: ae.retryable(), Err: ae}
}

// postError tells s's instance that Telegram refused its call, when the
// bot asked for it (error_events).
func (a *Adapter) postError(s *scope.Scope, c outCall, ae *APIError) {
	in := a.in.Load()
	if in == nil {
		return
	}
	ev := Error{Event: c.event, Method: c.method, Code: ae.Code, Description: ae.Description, ChatID: c.chat}
	// Send runs inside the instance's own handler, so waiting here for
	// room in its inbox could wait forever: try, and post later if full.
	if err := in.TryPost(s.Key, ev); errors.Is(err, scope.ErrInboxFull) {
		a.posts.Go(func() {
			if err := in.Post(in.Grace(), s.Key, ev); err != nil && !errors.Is(err, scope.ErrEnded) {
				a.log.Warn("telegram: error event not delivered", "adapter", a.cfg.Name, "scope", s.String(), "err", err)
			}
		})
	}
}
