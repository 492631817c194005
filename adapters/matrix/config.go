package matrix

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// Secret is a credential: it prints, formats and logs as "[redacted]".
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"[redacted]"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Config is the adapter's section of the config file.
type Config struct {
	// Homeserver is the base URL of the homeserver's client-server API:
	// "https://matrix.example.org".
	Homeserver string `yaml:"homeserver"`
	// UserID is the bot's user id ("@bot:example.org"). Optional: the
	// homeserver tells it (whoami); when set, it must match.
	UserID string `yaml:"user_id"`
	// AccessToken is the bot's access token. Keep it out of the file:
	// access_token: ${MATRIX_TOKEN}.
	AccessToken Secret `yaml:"access_token"`
	// Store is the file that keeps the sync token, so that a restarted
	// bot goes on where it stopped, neither handling an event twice nor
	// missing one. Without it, each start begins at the present: what
	// arrived while the bot was down is not handled.
	Store string `yaml:"store"`
	// Threads makes each thread a conversation of its own (a scope per
	// room and thread root); by default a room is one conversation,
	// threads included, and answers go into the thread they answer.
	Threads bool `yaml:"threads"`
	// AutoJoin joins the rooms the bot is invited to. Default true.
	AutoJoin *bool `yaml:"auto_join"`
	// Sync tunes the long poll.
	Sync Sync `yaml:"sync"`
	// Retry bounds how outbound calls are retried.
	Retry Retry `yaml:"retry"`
	// RequestTimeout bounds each call but the long poll (which gets
	// sync.timeout more). Default 30s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// MaxInflight bounds the sends (and joins) in flight at once. Default
	// 1: Matrix rate-limits the account as a whole, and with one call at
	// a time none is in flight when a limit is answered, so the account
	// never sends while it is limited. More are faster against a
	// homeserver that exempts the bot from rate limits.
	MaxInflight int `yaml:"max_inflight"`
}

// Sync tunes the /sync long poll.
type Sync struct {
	// Timeout is how long the homeserver holds a sync open when it has
	// nothing to send. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxPending bounds the events taken and not yet handled: syncing
	// pauses at the bound, so that a slow bot holds back the homeserver
	// rather than fill memory. Default 1000.
	MaxPending int `yaml:"max_pending"`
	// LeaseTTL is how long the syncer's lease lasts unrenewed, when
	// processes share a channel layer that elects (the Redis layer): a
	// dead syncer's successor starts within it and a third more. Default
	// 15s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// Retry bounds the retries of calls that failed for a reason that may
// pass: a network error, a 5xx, M_LIMIT_EXCEEDED. A rate limit's wait is
// the homeserver's retry_after_ms; other waits double from MinBackoff to
// MaxBackoff. The sync loop and whoami retry for as long as they run.
type Retry struct {
	// MaxAttempts is how many times a send is tried. Default 5.
	MaxAttempts int `yaml:"max_attempts"`
	// MinBackoff is the first wait. Default 1s.
	MinBackoff time.Duration `yaml:"min_backoff"`
	// MaxBackoff is the longest wait. Default 2m.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// Validate checks cfg without touching the network.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.Homeserver)
	if c.Homeserver == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("homeserver must be an http(s) URL, got %q", c.Homeserver))
	}
	if c.AccessToken == "" {
		errs = append(errs, errors.New("access_token is required"))
	}
	if c.UserID != "" && (!strings.HasPrefix(c.UserID, "@") || !strings.Contains(c.UserID, ":")) {
		errs = append(errs, fmt.Errorf("user_id must look like @name:server, got %q", c.UserID))
	}
	if c.Sync.Timeout < 0 || c.Sync.MaxPending < 0 || c.Sync.LeaseTTL < 0 || c.RequestTimeout < 0 || c.MaxInflight < 0 ||
		c.Retry.MaxAttempts < 0 || c.Retry.MinBackoff < 0 || c.Retry.MaxBackoff < 0 {
		errs = append(errs, errors.New("durations and counts must not be negative"))
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.AutoJoin == nil {
		yes := true
		c.AutoJoin = &yes
	}
	c.Homeserver = strings.TrimRight(c.Homeserver, "/")
	if c.Sync.Timeout == 0 {
		c.Sync.Timeout = 30 * time.Second
	}
	if c.Sync.MaxPending == 0 {
		c.Sync.MaxPending = 1000
	}
	if c.Sync.LeaseTTL == 0 {
		c.Sync.LeaseTTL = 15 * time.Second
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = 5
	}
	if c.Retry.MinBackoff == 0 {
		c.Retry.MinBackoff = time.Second
	}
	if c.Retry.MaxBackoff == 0 {
		c.Retry.MaxBackoff = 2 * time.Minute
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = 1
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 30 * time.Second
	}
}

// Factory builds an adapter from its section of a server's config file:
// the keys of Config. When Setup's layer is shared by processes (an
// adapters.Leaser, such as the Redis layer), they elect one syncer
// through its Lease (WithLease); they must then share the store too.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	var cfg Config
	if s.Decode != nil {
		if err := s.Decode(&cfg); err != nil {
			return nil, err
		}
	}
	opts := []Option{WithLogger(s.Logger)}
	if l, ok := s.Layer.(adapters.Leaser); ok {
		opts = append(opts, WithLease(l.Lease()))
	}
	return New(s.Name, cfg, opts...)
}
