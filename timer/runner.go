package timer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Deliverer hands an event to the conversation filed under key, starting
// its scope with newScope when it has none. *scope.Manager is one.
type Deliverer interface {
	Deliver(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope) error
}

var _ Deliverer = (*scope.Manager)(nil)

// Clock is a Runner's and Middleware's source of time; clocktest.Clock and
// the scope manager's clocks are ones.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Defaults of a Runner.
const (
	DefaultPollInterval = 100 * time.Millisecond
	DefaultLease        = 10 * time.Second
	DefaultBatch        = 100
)

// RunnerOption configures a Runner.
type RunnerOption func(*Runner)

// WithPollInterval sets how often the Runner looks for due timers when it
// found none: a timer fires at most about this late. Default:
// DefaultPollInterval.
func WithPollInterval(d time.Duration) RunnerOption {
	return func(r *Runner) {
		if d > 0 {
			r.poll = d
		}
	}
}

// WithLease sets how long a claimed timer is the Runner's before another
// may claim it: longer than delivering a batch can take, since an inbox
// that is full makes delivery wait. Default: DefaultLease.
func WithLease(d time.Duration) RunnerOption {
	return func(r *Runner) {
		if d > 0 {
			r.lease = d
		}
	}
}

// WithBatch sets how many timers one claim takes at most. Default:
// DefaultBatch.
func WithBatch(n int) RunnerOption {
	return func(r *Runner) {
		if n > 0 {
			r.batch = n
		}
	}
}

// WithRunnerClock sets the Runner's clock. Default: the wall clock.
func WithRunnerClock(c Clock) RunnerOption {
	return func(r *Runner) {
		if c != nil {
			r.clock = c
		}
	}
}

// WithLogger sets the Runner's logger. Default: slog.Default().
func WithLogger(l *slog.Logger) RunnerOption {
	return func(r *Runner) {
		if l != nil {
			r.log = l
		}
	}
}

// Runner delivers one adapter's due timers into their conversations. Run
// one per adapter in every process serving it; they share the work.
type Runner struct {
	st      Store
	adapter string
	d       Deliverer
	clock   Clock
	log     *slog.Logger
	poll    time.Duration
	lease   time.Duration
	batch   int
}

// NewRunner returns a Runner of the timers of adapter in st, delivered
// through d (the adapter's scope manager).
func NewRunner(st Store, adapter string, d Deliverer, opts ...RunnerOption) *Runner {
	r := &Runner{st: st, adapter: adapter, d: d, clock: wallClock{}, log: slog.Default(),
		poll: DefaultPollInterval, lease: DefaultLease, batch: DefaultBatch}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run delivers due timers until ctx ends, and returns ctx's error. A store
// that fails is logged and tried again at the next poll.
func (r *Runner) Run(ctx context.Context) error {
	for {
		n, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			r.log.Error("timer: claiming or delivering failed; trying again", "adapter", r.adapter, "err", err)
		}
		if n == r.batch && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.clock.After(r.poll):
		}
	}
}

// RunOnce claims one batch of due timers, delivers them and returns how
// many it claimed.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	claims, err := r.st.Claim(ctx, r.adapter, r.clock.Now(), r.batch, r.lease)
	delivered := claims[:0:0]
	for _, c := range claims {
		if ctx.Err() != nil {
			break // the rest stay claimed: due again when the lease runs out
		}
		if derr := r.d.Deliver(ctx, c.Key, c.Event, c.Scope.NewScope); derr != nil {
			err = errors.Join(err, derr)
			continue
		}
		delivered = append(delivered, c)
	}
	// What is in an inbox is delivered: settle it even if ctx ended
	// meanwhile, or it would come twice. One call for the batch.
	if len(delivered) > 0 {
		if aerr := r.st.Ack(context.WithoutCancel(ctx), delivered...); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}
	return len(claims), err
}
