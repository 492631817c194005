package slack

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/ratelimit"
)

// Mode selects how the adapter receives events.
type Mode string

// The modes.
const (
	// ModeSocket receives events over a Socket Mode WebSocket: no public
	// endpoint is needed, an app-level token (xapp-) is.
	ModeSocket Mode = "socket"
	// ModeHTTP serves the Events API, slash command and interactivity
	// endpoints, each request signed with the signing secret.
	ModeHTTP Mode = "http"
)

// Config configures an Adapter. Only the tokens (and, in HTTP mode, the
// signing secret) are required; every other zero field takes the default
// its comment names.
type Config struct {
	// Name is the adapter's name, used in logs and Scope.Adapter.
	// Default: "slack".
	Name string `yaml:"name"`
	// Mode is "socket" or "http". Default: "socket".
	Mode Mode `yaml:"mode"`
	// BotToken (xoxb-) authorises Web API calls. Required.
	BotToken string `yaml:"bot_token"`
	// AppToken (xapp-) opens Socket Mode connections. Required in socket
	// mode.
	AppToken string `yaml:"app_token"`
	// SigningSecret verifies HTTP requests. Required in http mode.
	SigningSecret string `yaml:"signing_secret"`
	// Listen is the address the HTTP endpoints are served on in http
	// mode, such as ":3000". Default: none; mount Handler on a server of
	// your own instead. Factory requires it in http mode, a server having
	// nowhere to mount Handler.
	Listen string `yaml:"listen"`
	// Listener bounds the listener on Listen: timeouts, header size,
	// connections in all and per client (see adapters.ListenConfig and its
	// defaults). Slack sends small requests and waits 3 seconds for an
	// answer: the defaults leave it room.
	Listener adapters.ListenConfig `yaml:"listener"`
	// EventsPath, CommandsPath and InteractivityPath are the request paths
	// of the three endpoints in http mode. Defaults: "/slack/events",
	// "/slack/commands", "/slack/interactivity".
	EventsPath        string `yaml:"events_path"`
	CommandsPath      string `yaml:"commands_path"`
	InteractivityPath string `yaml:"interactivity_path"`
	// APIURL is the Web API base URL. Default: "https://slack.com/api/".
	// A missing trailing "/" is added, because the client appends method
	// names to it.
	APIURL string `yaml:"api_url"`
	// Threads makes each thread (thread_ts) a conversation of its own,
	// with its own scope; otherwise a channel is one conversation.
	// Default: false.
	Threads bool `yaml:"threads"`
	// IncludeBots delivers messages from other bots (bot_message subtype,
	// bot_id set). The bot's own messages are never delivered, so that it
	// cannot answer itself in a loop. Default: false.
	IncludeBots bool `yaml:"include_bots"`
	// MaxBody bounds an HTTP request body in bytes; a larger one is
	// answered 413. Default: 1 MiB.
	MaxBody int64 `yaml:"max_body"`
	// AckDeadline is how long after an event arrives the adapter
	// acknowledges it (the Socket Mode ack, the HTTP 200) if its handler
	// is still running then; an event handled sooner is acknowledged as
	// soon as its handler returned. It also bounds how long an event may
	// wait for room in its conversation's inbox: one that got no room by
	// then is not acknowledged, and Slack sends it again. It must stay
	// under Slack's 3-second window, with room for the answer to travel.
	// Default: 2.5s.
	AckDeadline time.Duration `yaml:"ack_deadline"`
	// DedupeWindow is how long event ids are remembered to drop Slack's
	// retries. Default: 1 hour (Slack retries up to about 5 minutes late).
	DedupeWindow time.Duration `yaml:"dedupe_window"`
	// DedupeSize bounds the remembered event ids. Default: 100,000.
	DedupeSize int `yaml:"dedupe_size"`
	// PostRate is how many chat.postMessage calls per second one channel
	// may get, and PostBurst how many may go at once. Defaults: 1 and 5.
	PostRate  float64 `yaml:"post_rate"`
	PostBurst int     `yaml:"post_burst"`
	// RateLimits overrides the calls a minute allowed per Web API method
	// ("chat.update": 50). Default: Slack's published tiers, with
	// chat.postMessage capped at 600 a minute for the workspace besides
	// PostRate per channel; unknown methods get tier 2 (20).
	RateLimits map[string]float64 `yaml:"rate_limits"`
	// MaxRetries bounds the retries of a rate-limited (429) or failed
	// (5xx) call. Default: 5.
	MaxRetries int `yaml:"max_retries"`
	// ErrorEvents makes a call Slack refuses also come back to the scope
	// that sent it as a slack.error event, after Send returned its
	// *adapters.RefusedError. For bots written against that event; others
	// need nothing but the error. Default: false.
	ErrorEvents bool `yaml:"error_events"`
}

// DefaultAckDeadline is AckDeadline's default: half a second under Slack's
// 3-second window.
const DefaultAckDeadline = 2500 * time.Millisecond

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrConfig wraps every configuration problem Validate reports.
	ErrConfig = errors.New("slack: invalid config")
	// ErrBadSignature: an HTTP request's signature or timestamp did not
	// verify.
	ErrBadSignature = errors.New("slack: bad request signature")
	// ErrNoChannel: an outbound event names no channel and has no scope
	// to take one from.
	ErrNoChannel = errors.New("slack: no channel to send to")
	// ErrUnknownEvent: Send or Push got an event type the adapter does
	// not send.
	ErrUnknownEvent = errors.New("slack: unknown outbound event")
	// ErrNotServing: an HTTP request came in while the adapter was not
	// serving (before auth.test succeeded, or after Shutdown began).
	ErrNotServing = errors.New("slack: adapter not serving")
)

// Validate reports fields that can never work. It fills no defaults and
// never touches the network.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	switch c.Mode {
	case "", ModeSocket:
		if c.AppToken == "" {
			bad("app_token is required in socket mode")
		} else if !strings.HasPrefix(c.AppToken, "xapp-") {
			bad("app_token must be an app-level token (xapp-...)")
		}
	case ModeHTTP:
		if c.SigningSecret == "" {
			bad("signing_secret is required in http mode")
		}
	default:
		bad("mode must be %q or %q, got %q", ModeSocket, ModeHTTP, c.Mode)
	}
	if c.BotToken == "" {
		bad("bot_token is required")
	}
	for name, v := range map[string]int64{"max_body": c.MaxBody, "dedupe_size": int64(c.DedupeSize),
		"post_burst": int64(c.PostBurst), "max_retries": int64(c.MaxRetries)} {
		if v < 0 {
			bad("%s must not be negative", name)
		}
	}
	for m, r := range c.RateLimits {
		if r <= 0 {
			bad("rate_limits[%s] must be positive", m)
		}
	}
	if err := c.Listener.Check("listener"); err != nil {
		bad("%v", err)
	}
	if c.PostRate < 0 || c.AckDeadline < 0 || c.DedupeWindow < 0 {
		bad("post_rate, ack_deadline and dedupe_window must not be negative")
	}
	if c.AckDeadline >= 3*time.Second {
		bad("ack_deadline must stay under Slack's 3s window, got %v", c.AckDeadline)
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Name, "slack")
	if c.Mode == "" {
		c.Mode = ModeSocket
	}
	def(&c.EventsPath, "/slack/events")
	def(&c.CommandsPath, "/slack/commands")
	def(&c.InteractivityPath, "/slack/interactivity")
	def(&c.APIURL, "https://slack.com/api/")
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if c.MaxBody == 0 {
		c.MaxBody = 1 << 20
	}
	c.Listener = c.Listener.Defaults()
	if c.AckDeadline == 0 {
		c.AckDeadline = DefaultAckDeadline
	}
	if c.DedupeWindow == 0 {
		c.DedupeWindow = time.Hour
	}
	if c.DedupeSize == 0 {
		c.DedupeSize = 100_000
	}
	if c.PostRate == 0 {
		c.PostRate = 1
	}
	if c.PostBurst == 0 {
		c.PostBurst = 5
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	}
}

// Option configures what an Adapter gets as code rather than data.
type Option func(*options)

type options struct {
	log    *slog.Logger
	client *http.Client
	clock  Clock
	ping   time.Duration
	shared ratelimit.Limiter
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHTTPClient sets the client for Web API calls, Socket Mode and
// response_url posts. Default: a client with a 30-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the clock that the deduplication window, the rate
// limiters, the retry pauses and the acknowledgement deadlines read.
// Default: the wall clock.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithPingInterval sets how long Socket Mode waits for a server ping before
// it reconnects. Default: 30 seconds, the library's.
func WithPingInterval(d time.Duration) Option { return func(o *options) { o.ping = d } }
