package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Protocol is the scope type of Discord conversations.
const Protocol = "discord"

// ErrAuth is wrapped by the error Serve returns when Discord refuses the
// bot's token (HTTP 401, Gateway close 4004): trying again cannot help.
var ErrAuth = errors.New("discord: token refused")

// Reconnection backoff: the first attempt after a connection that was up
// is immediate, since a session resumes only for a short while; then 1 s,
// doubling to 2 min, reset once a connection is up again.
const (
	minBackoff = time.Second
	maxBackoff = 2 * time.Minute
)

// Adapter connects one Discord bot, or one shard of it, to an
// application: Gateway events in, REST calls out.
type Adapter struct {
	name   string
	cfg    Config
	clock  scope.Clock
	dialer *websocket.Dialer
	rest   *discordgo.Session // REST calls and their rate limiter only

	bot    atomic.Pointer[scope.User]      // from READY
	report atomic.Pointer[adapters.Report] // the Host's, once Serve runs
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Pusher  = (*Adapter)(nil)
	_ adapters.Factory = Factory
)

// Option configures an Adapter.
type Option func(*options)

type options struct {
	clock  scope.Clock
	base   http.RoundTripper
	dialer *websocket.Dialer
}

// WithClock sets the clock of the Gateway's heartbeats, of the wait after
// an invalid session and of the reconnection backoff. REST rate limits
// always run on the wall clock, as Discord's headers are read against it.
// Default: the wall clock.
func WithClock(c scope.Clock) Option { return func(o *options) { o.clock = c } }

// WithTransport sets the HTTP transport of REST calls, under the adapter's
// own (which points them at Config.APIURL and keeps the global limit).
// Default: http.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.base = rt } }

// WithDialer sets the Gateway's WebSocket dialer. Default: one with a
// 30 s handshake timeout and the proxy of the environment.
func WithDialer(d *websocket.Dialer) Option { return func(o *options) { o.dialer = d } }

// New returns an adapter called name ("discord" if empty) for cfg. It
// validates cfg but does not touch the network.
func New(name string, cfg Config, opts ...Option) (*Adapter, error) {
	if name == "" {
		name = Protocol
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := options{clock: scope.WallClock{}, base: http.DefaultTransport}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.dialer == nil {
		o.dialer = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 30 * time.Second}
	}
	a := &Adapter{name: name, cfg: cfg, clock: o.clock, dialer: o.dialer}
	tr, err := newTransport(o.base, cfg.APIURL, cfg.GlobalRate, a.observe)
	if err != nil {
		return nil, fmt.Errorf("discord %s: %w", name, err)
	}
	// discordgo.New touches no network; only its REST client and rate
	// limiter are used, never its Gateway.
	rest, err := discordgo.New("Bot " + string(cfg.Token))
	if err != nil {
		return nil, fmt.Errorf("discord %s: %w", name, err)
	}
	rest.Client = &http.Client{Transport: tr, Timeout: time.Minute}
	rest.ShouldRetryOnRateLimit = false // the adapter waits, within the caller's context
	rest.MaxRestRetries = 0
	rest.UserAgent = "DiscordBot (https://github.com/switchboard-bots/switchboard, 1) switchboard"
	rest.LogLevel = -1 // discordgo logs through the standard library's global logger: silence it
	a.rest = rest
	return a, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Bot returns the bot's own user, known once the Gateway said READY.
func (a *Adapter) Bot() scope.User {
	if u := a.bot.Load(); u != nil {
		return *u
	}
	return scope.User{}
}

// observe returns the Host's observer; the zero Report before Serve.
func (a *Adapter) observe() adapters.Report {
	if r := a.report.Load(); r != nil {
		return *r
	}
	return adapters.Report{}
}

// Serve implements adapters.Adapter. It checks the token (GET /users/@me),
// asks for the Gateway's URL (GET /gateway/bot), then keeps a Gateway
// session until ctx ends: it resumes the session after a drop, a
// RECONNECT or a resumable INVALID_SESSION, identifies anew when the
// session cannot be resumed, and reconnects with backoff. It fails only
// when Discord refuses the token, the shard or the intents.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	report := in.Report()
	a.report.Store(&report)
	log := in.Logger().With("adapter", a.name)
	var gw struct {
		URL string `json:"url"`
	}
	err := a.retryStart(ctx, log, func() error {
		if err := a.getJSON(ctx, discordgo.EndpointUser("@me"), new(struct{})); err != nil {
			return err
		}
		return a.getJSON(ctx, discordgo.EndpointGatewayBot, &gw)
	})
	if err != nil || ctx.Err() != nil {
		return err
	}
	sess := &session{gateway: gw.URL}
	wait := time.Duration(0)
	for {
		up, err := a.connect(ctx, in, log, sess)
		if ctx.Err() != nil {
			return nil
		}
		var fatal *CloseError
		if errors.As(err, &fatal) && fatal.Fatal() {
			return err
		}
		if up {
			wait = 0
		}
		level := slog.LevelWarn
		if errors.Is(err, errReconnect) && wait == 0 {
			level = slog.LevelInfo // Discord asks for it in the normal run of things
		}
		log.Log(ctx, level, "discord: gateway connection lost; reconnecting", "err", err, "resume", sess.id != "", "retry_in", wait)
		if wait > 0 {
			select {
			case <-a.clock.After(wait):
			case <-ctx.Done():
				return nil
			}
		}
		wait = min(max(2*wait, minBackoff), maxBackoff)
	}
}

// retryStart runs start until it succeeds, ctx ends (nil), or Discord
// refuses the token (ErrAuth), waiting with backoff in between.
func (a *Adapter) retryStart(ctx context.Context, log *slog.Logger, start func() error) error {
	wait := minBackoff
	for {
		err := start()
		var api *APIError
		switch {
		case err == nil, ctx.Err() != nil:
			return nil
		case errors.As(err, &api) && api.Status == http.StatusUnauthorized:
			return fmt.Errorf("%w: %w", ErrAuth, err)
		}
		log.Warn("discord: cannot reach the API; retrying", "err", err, "retry_in", wait)
		select {
		case <-a.clock.After(wait):
		case <-ctx.Done():
			return nil
		}
		wait = min(2*wait, maxBackoff)
	}
}

// jitter returns a random duration in [lo, hi).
func jitter(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}
