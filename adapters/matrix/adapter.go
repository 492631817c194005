package matrix

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

var (
	// ErrUnauthorized is wrapped by the error Serve returns when the
	// homeserver refuses the access token (M_UNKNOWN_TOKEN,
	// M_MISSING_TOKEN): trying again cannot help.
	ErrUnauthorized = errors.New("matrix: access token refused")
	// ErrRunning is returned by a second Serve of one Adapter.
	ErrRunning = errors.New("matrix: adapter already served")
)

// Option configures what an Adapter gets as code rather than data.
type Option func(*options)

type options struct {
	log   *slog.Logger
	hc    *http.Client
	clock scope.Clock
	store Store
	lease adapters.Lease
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHTTPClient sets the HTTP client for the homeserver. Default: a
// client of the adapter's own, whose idle connections close with Serve.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.hc = c } }

// WithClock sets the clock of backoff and rate-limit waits. Default: the
// wall clock.
func WithClock(c scope.Clock) Option { return func(o *options) { o.clock = c } }

// WithStore sets where the sync position is kept, in place of the
// config's store file: a database, a key in Redis. Default: a FileStore
// at Config.Store, or none (each start begins at the present).
func WithStore(s Store) Option { return func(o *options) { o.store = s } }

// Adapter is the Matrix adapter, run by an adapters.Host. It implements
// adapters.Adapter and adapters.Pusher.
type Adapter struct {
	name  string
	cfg   Config
	log   *slog.Logger
	clock scope.Clock
	store Store          // nil: none
	lease adapters.Lease // nil: none
	cli   *mautrix.Client
	ownHC bool

	self   atomic.Pointer[id.UserID] // the bot, known once whoami answered
	served atomic.Bool
	report atomic.Pointer[adapters.Report]

	txnPrefix string // unique to this Adapter, so that txn ids never repeat across restarts
	txnSeq    atomic.Uint64
	gate      gate          // the account's rate limit, shared by every call
	slots     chan struct{} // max_inflight: a send holds one while it runs
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Pusher  = (*Adapter)(nil)
)

// New returns an adapter called name ("matrix" if empty) for cfg. It
// validates cfg and dials nothing: the token is checked (whoami) when
// Serve starts.
func New(name string, cfg Config, opts ...Option) (*Adapter, error) {
	if name == "" {
		name = Protocol
	}
	prefix := "matrix"
	if name != Protocol {
		prefix += " " + name
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
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
	if o.store == nil && cfg.Store != "" {
		o.store = FileStore{Path: cfg.Store}
	}
	own := o.hc == nil
	if own {
		o.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	cli, err := mautrix.NewClient(cfg.Homeserver, id.UserID(cfg.UserID), string(cfg.AccessToken))
	if err != nil {
		return nil, fmt.Errorf("%s: homeserver: %w", prefix, err)
	}
	cli.Client = o.hc
	cli.Log = zerolog.Nop() // the adapter logs, through slog, and never the token
	cli.DefaultHTTPRetries = 0
	cli.IgnoreRateLimit = true // the adapter waits for rate limits itself, on its clock
	// Transaction ids are the homeserver's to remember per access token:
	// a prefix of the time and random bytes keeps them apart from every
	// earlier process's on the same token.
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	txnPrefix := "sb" + strconv.FormatInt(time.Now().UnixMilli(), 36) + hex.EncodeToString(nonce[:])
	return &Adapter{name: name, cfg: cfg, log: o.log.With("adapter", name), clock: o.clock,
		store: o.store, lease: o.lease, cli: cli, ownHC: own,
		slots: make(chan struct{}, cfg.MaxInflight), txnPrefix: txnPrefix}, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Bot returns the bot's user id, known once Serve asked the homeserver.
func (a *Adapter) Bot() string {
	if u := a.self.Load(); u != nil {
		return string(*u)
	}
	return ""
}

// Serve implements adapters.Adapter: it checks the token (whoami), loads
// the sync position from the store, and syncs until ctx ends or the
// homeserver refuses the token (an error matching ErrUnauthorized). It
// tells in it is ready once the first sync was handed over, or, with a
// lease, once the lease answered, held or not (a process standing by is
// healthy). An Adapter serves once.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	if !a.served.CompareAndSwap(false, true) {
		return ErrRunning
	}
	r := in.Report()
	a.report.Store(&r)
	if a.ownHC {
		defer a.cli.Client.CloseIdleConnections()
	}
	if err := a.identify(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before serving
		}
		return err
	}
	if a.store == nil {
		a.log.Warn("matrix: no store configured: events that arrive while the bot is down will not be handled")
	}
	if a.lease != nil {
		return a.syncTerms(ctx, in)
	}
	return a.syncFromStore(ctx, in)
}

// syncFromStore syncs from the stored position until ctx ends.
func (a *Adapter) syncFromStore(ctx context.Context, in *adapters.Intake) error {
	var st State
	if a.store != nil {
		var err error
		if st, err = a.store.Load(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return newSyncer(a, in, st).run(ctx)
}

func (a *Adapter) observe() adapters.Report {
	if r := a.report.Load(); r != nil {
		return *r
	}
	return adapters.Report{}
}

// identify asks the homeserver who the token belongs to, until it
// answers, refuses the token, or ctx ends.
func (a *Adapter) identify(ctx context.Context) error {
	backoff := a.cfg.Retry.MinBackoff
	for {
		cctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
		who, err := a.cli.Whoami(cctx)
		cancel()
		if err == nil {
			if a.cfg.UserID != "" && who.UserID != id.UserID(a.cfg.UserID) {
				return fmt.Errorf("matrix %s: the access token is %s's, not user_id %s: %w", a.name, who.UserID, a.cfg.UserID, ErrUnauthorized)
			}
			a.self.Store(&who.UserID)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if unauthorized(err) {
			return fmt.Errorf("matrix %s: whoami: %w: %v", a.name, ErrUnauthorized, err)
		}
		wait, _ := retryable(err)
		wait = max(wait, backoff)
		a.log.Warn("matrix: whoami failed; retrying", "err", err, "retry_in", wait)
		if err := adapters.Sleep(ctx, a.clock, wait); err != nil {
			return err
		}
		a.observe().Retry()
		backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
	}
}

// txnID returns a transaction id never used before by this access token:
// the homeserver makes one event per id, so a send retried with its id is
// not posted twice.
func (a *Adapter) txnID() string {
	return a.txnPrefix + "." + strconv.FormatUint(a.txnSeq.Add(1), 10)
}
