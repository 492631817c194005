package scope

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config bounds and times a Manager. The zero value is usable: every zero
// field takes the default its comment names.
type Config struct {
	// IdleTimeout ends a scope that has received no event for this long,
	// with ReasonIdle. Default: 10 minutes. Negative: scopes never idle
	// out (connection scopes, which the adapter ends itself).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxScopes bounds the number of live scopes. When a new conversation
	// starts at the bound, the least recently active idle scope is ended
	// with ReasonEvicted, unless NoEvict says otherwise. Default: 100,000.
	// Negative: no bound.
	MaxScopes int `yaml:"max_scopes"`
	// NoEvict makes a new scope at MaxScopes fail with ErrTooManyScopes
	// instead of evicting an idle one. Chat conversations are evictable
	// (the default): the next message of an evicted conversation starts a
	// new scope, so eviction costs the user nothing but the instance's
	// state. A connection's scope is not: ending it drops a live peer, and
	// if new connections could push quiet ones out, anyone could
	// disconnect every quiet user by opening connections. Adapters whose
	// scopes are connections set it in their ScopeConfig (the websocket
	// adapter does); a file does not. Default: false.
	NoEvict bool `yaml:"-"`
	// InboxSize bounds the events queued for one scope. A delivery to a
	// full inbox waits (backpressure on the adapter); nothing is dropped.
	// Default: 64.
	InboxSize int `yaml:"inbox_size"`
	// ShutdownParallelism bounds how many idle scopes Shutdown ends at
	// once. Default: 64.
	ShutdownParallelism int `yaml:"shutdown_parallelism"`
	// Workers bounds the worker goroutines that run the handlers of
	// scopes with queued events. Scopes with work beyond them wait in a
	// run queue, in the order they got it, each still served by one
	// worker at a time. Workers live on from one scope to the next, so
	// that their stacks, grown to a handler's depth, serve again. A scope
	// served by its adapter's own goroutine (DeliverInline: a WebSocket's
	// read loop) takes no worker while it is. Handlers that wait on the
	// network for long hold workers: raise it for those, or lower
	// StallAfter. Default: 64.
	Workers int `yaml:"workers"`
	// StallAfter is how long a handler may hold its worker while scopes
	// wait for one. While a scope waits, the workers are looked at every
	// StallAfter, and one found in the same handler at two looks in a row
	// stops counting against Workers: a new worker takes its place, and
	// the replacement is logged at warning level and counted
	// (WorkerStats). The stalled worker finishes its scope's turn once its
	// handler returns, then rejoins the pool if there is room or exits.
	// So handlers that never return cost a goroutine each but cannot hold
	// up the other scopes for good. Default: 1 second.
	StallAfter time.Duration `yaml:"stall_after"`
}

// Defaults for Config.
const (
	DefaultIdleTimeout         = 10 * time.Minute
	DefaultMaxScopes           = 100_000
	DefaultInboxSize           = 64
	DefaultShutdownParallelism = 64
	DefaultWorkers             = 64
	DefaultStallAfter          = time.Second
)

// Validate reports fields that can never work. It does not fill defaults.
func (c Config) Validate() error {
	var errs []error
	if c.InboxSize < 0 {
		errs = append(errs, fmt.Errorf("scope: inbox_size must not be negative, got %d", c.InboxSize))
	}
	if c.ShutdownParallelism < 0 {
		errs = append(errs, fmt.Errorf("scope: shutdown_parallelism must not be negative, got %d", c.ShutdownParallelism))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("scope: workers must not be negative, got %d", c.Workers))
	}
	if c.StallAfter < 0 {
		errs = append(errs, fmt.Errorf("scope: stall_after must not be negative, got %v", c.StallAfter))
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxScopes == 0 {
		c.MaxScopes = DefaultMaxScopes
	}
	if c.InboxSize == 0 {
		c.InboxSize = DefaultInboxSize
	}
	if c.ShutdownParallelism == 0 {
		c.ShutdownParallelism = DefaultShutdownParallelism
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.StallAfter == 0 {
		c.StallAfter = DefaultStallAfter
	}
}

// Option configures what a Manager gets as code rather than data.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	sweep     time.Duration
	clock     Clock
	closeWait time.Duration
}

// Clock is a Manager's source of time: idle timeouts and the sweeper read
// it, so that tests can move time on instead of waiting for it.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// WallClock is the Clock of real time: what code that takes a Clock uses
// when it is given none.
type WallClock struct{}

var _ Clock = WallClock{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (WallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// DefaultCloseWait is how long Close waits for handlers after cancelling
// their context.
const DefaultCloseWait = time.Second

// WithClock sets the Manager's clock. Default: the wall clock.
func WithClock(c Clock) Option {
	return func(o *options) { o.clock = c }
}

// WithCloseWait sets how long Close waits for handlers to return after
// cancelling their context. Default: DefaultCloseWait.
func WithCloseWait(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.closeWait = d
		}
	}
}

// WithLogger sets the logger for scope failures and lifecycle. Default:
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithSweepInterval sets how often idle scopes are looked for. Default: an
// eighth of the idle timeout, between 5 ms and 1 s. A scope ends at most
// this long after its idle timeout.
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.sweep = d
		}
	}
}
