package telegram

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// Secret is a string that never prints: a bot token or webhook secret in
// a Config that gets logged or formatted stays hidden.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"[redacted]"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Modes of receiving updates.
const (
	ModePolling = "polling"
	ModeWebhook = "webhook"
)

// Keys of conversations.
const (
	// KeyChat: one scope per chat, and per forum topic.
	KeyChat = "chat"
	// KeyChatUser: in group chats, one scope per member per chat (and
	// topic); private chats are unaffected.
	KeyChatUser = "chat_user"
)

// DefaultEndpoint is Telegram's Bot API endpoint format.
const DefaultEndpoint = "https://api.telegram.org/bot%s/%s"

// Config configures an Adapter. Only Token is required; every zero field
// takes the default its comment names.
type Config struct {
	// Name is the adapter's name in logs and Scope.Adapter. Default:
	// "telegram".
	Name string `yaml:"name"`
	// Token is the bot token from @BotFather. Required.
	Token Secret `yaml:"token"`
	// Endpoint is the Bot API URL format, with %s for the token and then
	// the method. Default: DefaultEndpoint. A local Bot API server or a
	// test fake goes here.
	Endpoint string `yaml:"endpoint"`
	// Mode is "polling" (getUpdates) or "webhook". Default: "polling".
	Mode string `yaml:"mode"`
	// AllowedUpdates lists the update kinds to receive ("message",
	// "callback_query", ...). Default: none listed, which is Telegram's
	// default set.
	AllowedUpdates []string `yaml:"allowed_updates"`
	// KeyBy is "chat" or "chat_user". Default: "chat".
	KeyBy string `yaml:"key_by"`
	// UploadDir is the only directory whose files SendPhoto and
	// SendDocument may upload by Path, since outbound events can come from
	// other processes. Default: "" (no uploads by path).
	UploadDir string `yaml:"upload_dir"`
	// MaxInflight bounds concurrent outbound API calls (and so the
	// connections to the API). Default: 64.
	MaxInflight int `yaml:"max_inflight"`
	// RequestTimeout bounds one outbound API call. Default: 30s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// DedupeWindow is how many recent handled update_ids are remembered
	// to drop an update Telegram sends again. It must exceed the updates
	// in flight at once (a getUpdates limit plus polling.max_parked, or
	// webhook.max_connections). Default: 10,000.
	DedupeWindow int `yaml:"dedupe_window"`
	// ErrorEvents posts a telegram.error event to the sending scope for
	// each call Telegram refuses, besides Send returning the
	// *adapters.RefusedError: for bots that react to refusals in a
	// handler of their own. Default: false (no events).
	ErrorEvents bool `yaml:"error_events"`

	Polling Polling `yaml:"polling"`
	Webhook Webhook `yaml:"webhook"`
	Limits  Limits  `yaml:"limits"`
	Retry   Retry   `yaml:"retry"`
}

// Polling configures getUpdates long polling.
type Polling struct {
	// Timeout is the long poll's timeout, in whole seconds. Default: 30s.
	Timeout time.Duration `yaml:"timeout"`
	// Limit is the most updates fetched per call, 1 to 100. Default: 100.
	Limit int `yaml:"limit"`
	// MaxParked bounds the updates held back for chats whose inbox is
	// full while other chats go on; at the bound polling pauses. Default:
	// 1,000.
	MaxParked int `yaml:"max_parked"`
	// LeaseTTL is how long the polling lease lasts without renewal, when
	// a Lease is configured: another process takes over within about this
	// long after the poller dies. Default: 10s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// Webhook configures webhook mode.
type Webhook struct {
	// URL is the public HTTPS URL Telegram posts updates to. When set,
	// Serve calls setWebhook with it on start. Default: "" (the webhook is
	// managed elsewhere).
	URL string `yaml:"url"`
	// SecretToken is checked against X-Telegram-Bot-Api-Secret-Token on
	// every request: 1 to 256 of A-Z, a-z, 0-9, _ and -. Required in
	// webhook mode.
	SecretToken Secret `yaml:"secret_token"`
	// Listen is the address Serve serves the webhook on, at Path. Default:
	// "" (mount Adapter.WebhookHandler on a server of your own).
	Listen string `yaml:"listen"`
	// Path is the request path served on Listen. Default: "/telegram".
	Path string `yaml:"path"`
	// MaxConnections is setWebhook's max_connections. Default: 40.
	MaxConnections int `yaml:"max_connections"`
	// DropPendingUpdates drops the updates queued at Telegram when the
	// webhook is set. Default: false.
	DropPendingUpdates bool `yaml:"drop_pending_updates"`
	// DeleteOnStop calls deleteWebhook on Shutdown. Default: false.
	DeleteOnStop bool `yaml:"delete_on_stop"`
	// MaxBody bounds an update's size in bytes. Default: 1 MiB.
	MaxBody int64 `yaml:"max_body"`
	// HandlerWait bounds how long a webhook request waits for its update
	// to be handled before it is answered 503, so that Telegram sends it
	// again. Default: 25s. Telegram does not document how long it waits
	// for an answer; it gives up on a request within about a minute and
	// then retries it after a delay of its choosing. Answering first, well
	// below that, frees the connection (max_connections bounds them), makes
	// the retry Telegram's ordinary one rather than a timeout's, and the
	// retry then waits for the same handling instead of starting another.
	HandlerWait time.Duration `yaml:"handler_wait"`
	// Listener bounds the webhook's listener on Listen: timeouts, header
	// size, connections in all and per client (see adapters.ListenConfig;
	// its defaults apply, but write_timeout defaults to handler_wait plus
	// 5s, so that an update's answer is never cut off, and
	// max_conns_per_client to twice max_connections, which Telegram may
	// open from one address).
	Listener adapters.ListenConfig `yaml:"listener"`
}

// Limits keeps outbound messages under Telegram's limits by queuing.
// A negative value lifts that limit.
type Limits struct {
	// Global is messages per second for the whole bot. Default: 30.
	Global float64 `yaml:"global_per_second"`
	// Chat is messages per second to one private chat. Default: 1.
	Chat float64 `yaml:"chat_per_second"`
	// Group is messages per minute to one group or channel. Default: 20.
	Group float64 `yaml:"group_per_minute"`
}

// Retry governs retries of outbound calls that failed with 5xx or a
// network error. A 429 is always retried after its retry_after.
type Retry struct {
	// MaxAttempts is the most attempts per call. Default: 5.
	MaxAttempts int `yaml:"max_attempts"`
	// MinBackoff is the wait after the first failure, doubled after each
	// one. Default: 100ms.
	MinBackoff time.Duration `yaml:"min_backoff"`
	// MaxBackoff caps the wait. Default: 30s.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// tokenShape is what a bot token looks like: the bot's id, a colon, the
// key.
var tokenShape = regexp.MustCompile(`\d+:[A-Za-z0-9_-]{30,}`)

// maskToken masks the configured token, and anything shaped like a bot
// token, in s: a token written into the endpoint must not reach an error
// message.
func (c Config) maskToken(s string) string {
	if t := string(c.Token); len(t) >= 6 {
		s = strings.ReplaceAll(s, t, "[redacted]")
	}
	return tokenShape.ReplaceAllString(s, "[redacted]")
}

// Validate reports every field that can never work. It does not dial the
// network and does not fill defaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("telegram: "+format, args...)) }
	switch t := string(c.Token); {
	case t == "":
		errs = append(errs, ErrNoToken)
	case strings.ContainsAny(t, " \t\r\n/?#%"):
		bad("token has characters a bot token never has")
	}
	if c.Endpoint != "" && (strings.Count(c.Endpoint, "%s") != 2 || !strings.HasPrefix(c.Endpoint, "http")) {
		bad("endpoint must be an http(s) URL with two %%s (token, method), got %q", c.maskToken(c.Endpoint))
	}
	if c.Mode != "" && c.Mode != ModePolling && c.Mode != ModeWebhook {
		bad("mode must be %q or %q, got %q", ModePolling, ModeWebhook, c.Mode)
	}
	if c.KeyBy != "" && c.KeyBy != KeyChat && c.KeyBy != KeyChatUser {
		bad("key_by must be %q or %q, got %q", KeyChat, KeyChatUser, c.KeyBy)
	}
	for name, v := range map[string]int{"max_inflight": c.MaxInflight, "dedupe_window": c.DedupeWindow,
		"polling.max_parked": c.Polling.MaxParked, "webhook.max_connections": c.Webhook.MaxConnections,
		"retry.max_attempts": c.Retry.MaxAttempts} {
		if v < 0 {
			bad("%s must not be negative, got %d", name, v)
		}
	}
	if c.Polling.Limit < 0 || c.Polling.Limit > 100 {
		bad("polling.limit must be 1 to 100, got %d", c.Polling.Limit)
	}
	if c.Polling.Timeout < 0 || c.Polling.Timeout%time.Second != 0 {
		bad("polling.timeout must be whole seconds, got %v", c.Polling.Timeout)
	}
	for name, d := range map[string]time.Duration{"request_timeout": c.RequestTimeout, "polling.lease_ttl": c.Polling.LeaseTTL,
		"webhook.handler_wait": c.Webhook.HandlerWait,
		"retry.min_backoff":    c.Retry.MinBackoff, "retry.max_backoff": c.Retry.MaxBackoff} {
		if d < 0 {
			bad("%s must not be negative, got %v", name, d)
		}
	}
	for name, v := range map[string]float64{"global_per_second": c.Limits.Global, "chat_per_second": c.Limits.Chat, "group_per_minute": c.Limits.Group} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			bad("limits.%s must be a number, got %v", name, v)
		}
	}
	if err := c.Webhook.Listener.Check("webhook.listener"); err != nil {
		bad("%v", err)
	}
	if c.Webhook.MaxBody < 0 {
		bad("webhook.max_body must not be negative")
	}
	if s := string(c.Webhook.SecretToken); s != "" && !validSecret(s) {
		bad("webhook.secret_token must be 1 to 256 of A-Z, a-z, 0-9, _ and -")
	}
	if c.Mode == ModeWebhook && c.Webhook.SecretToken == "" {
		bad("webhook mode needs webhook.secret_token, or anyone who finds the URL can inject updates")
	}
	if u := c.Webhook.URL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad("webhook.url must be an absolute URL (Telegram requires https), got %q", u)
		}
	}
	if c.Webhook.Path != "" && !strings.HasPrefix(c.Webhook.Path, "/") {
		bad("webhook.path must start with /, got %q", c.Webhook.Path)
	}
	return errors.Join(errs...)
}

func validSecret(s string) bool {
	if len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (c *Config) setDefaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	defF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Name == "" {
		c.Name = "telegram"
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Mode == "" {
		c.Mode = ModePolling
	}
	if c.KeyBy == "" {
		c.KeyBy = KeyChat
	}
	def(&c.MaxInflight, 64)
	defD(&c.RequestTimeout, 30*time.Second)
	def(&c.DedupeWindow, 10_000)
	defD(&c.Polling.Timeout, 30*time.Second)
	def(&c.Polling.Limit, 100)
	def(&c.Polling.MaxParked, 1000)
	defD(&c.Polling.LeaseTTL, 10*time.Second)
	if c.Webhook.Path == "" {
		c.Webhook.Path = "/telegram"
	}
	def(&c.Webhook.MaxConnections, 40)
	defD(&c.Webhook.HandlerWait, 25*time.Second)
	if c.Webhook.MaxBody == 0 {
		c.Webhook.MaxBody = 1 << 20
	}
	defD(&c.Webhook.Listener.WriteTimeout, c.Webhook.HandlerWait+5*time.Second)
	def(&c.Webhook.Listener.MaxConnsPerClient, 2*c.Webhook.MaxConnections)
	c.Webhook.Listener = c.Webhook.Listener.Defaults()
	defF(&c.Limits.Global, 30)
	defF(&c.Limits.Chat, 1)
	defF(&c.Limits.Group, 20)
	def(&c.Retry.MaxAttempts, 5)
	defD(&c.Retry.MinBackoff, 100*time.Millisecond)
	defD(&c.Retry.MaxBackoff, 30*time.Second)
}
