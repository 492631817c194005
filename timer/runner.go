package timer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Deliverer hands an event to the conversation filed under key, starting
// its scope with newScope when it has none, and calls ack once the event
// was handled (ack(nil)) or will not be (an error). *scope.Manager's
// DeliverAck is one (see ManagerDeliverer); adapters.Host.Deliver, which
// honours the adapter's durable intake, is another.
type Deliverer interface {
	Deliver(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error
}

// DeliverFunc is a function that is a Deliverer.
type DeliverFunc func(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error

// Deliver implements Deliverer.
func (f DeliverFunc) Deliver(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error {
	return f(ctx, key, ev, newScope, ack)
}

// ManagerDeliverer returns m as a Deliverer, through its DeliverAck.
func ManagerDeliverer(m *scope.Manager) Deliverer { return DeliverFunc(m.DeliverAck) }

// Clock is a Runner's and Middleware's source of time; clocktest.Clock and
// the scope manager's clocks are ones.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

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
	r := &Runner{st: st, adapter: adapter, d: d, clock: scope.WallClock{}, log: slog.Default(),
		poll: DefaultPollInterval, lease: DefaultLease, batch: DefaultBatch}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run delivers due timers until ctx ends, and returns ctx's error. A store
// that fails is logged and tried again at the next poll.
//
// Unlike a loop of RunOnce, Run claims the next batch while the handlers
// of the last run, and holds at most two batches whose handlers have not
// returned. It settles each timer (Store.Ack) as soon as its handler
// returned, without waiting for the settles already under way, so that
// only a timer whose handler was running, or whose settle was on its way
// to the store, comes again after a crash. A timer settled after its
// lease ran out may have been claimed again meanwhile: Run logs it. Once
// ctx ends it still settles, for at most the lease, the timers whose
// handlers return meanwhile.
func (r *Runner) Run(ctx context.Context) error {
	s := newSettler(r, context.WithoutCancel(ctx), 2*r.batch, false)
	defer func() {
		over, quit := r.leaseOver()
		defer quit()
		_ = s.finish(over) // logged
	}()
	for {
		n, err := r.claimInto(ctx, s)
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

// claimInto claims a batch of due timers once s has room for it, delivers
// them, and has s settle each once its handler returned.
func (r *Runner) claimInto(ctx context.Context, s *settler) (int, error) {
	if err := s.awaitRoom(ctx, r.batch); err != nil {
		return 0, err
	}
	now := r.clock.Now()
	claims, err := r.st.Claim(ctx, r.adapter, now, r.batch, r.lease)
	return len(claims), errors.Join(err, r.deliver(ctx, s, claims, now.Add(r.lease)))
}

// deliver hands each claim to its conversation, until ctx ends: the rest
// stay claimed, due again when the lease runs out, at until.
func (r *Runner) deliver(ctx context.Context, s *settler, claims []Claim, until time.Time) error {
	var err error
	for _, c := range claims {
		if ctx.Err() != nil {
			break
		}
		s.add()
		c := held{Claim: c, until: until}
		derr := r.d.Deliver(ctx, c.Key, c.Event, c.Scope.NewScope, func(err error) { s.report(c, err) })
		switch {
		case errors.Is(derr, scope.ErrEnded):
			// A conversation that cannot be started again (a WebSocket
			// connection's) has ended: the timer has nowhere to go.
			r.log.Warn("timer dropped: its conversation ended for good", "adapter", r.adapter, "key", c.Key, "name", c.Name, "err", derr)
			s.report(c, nil)
		case derr != nil:
			s.report(c, errNotDelivered)
			if ctx.Err() == nil {
				err = errors.Join(err, fmt.Errorf("timer %q of %s: %w", c.Name, c.Key, derr))
			}
		}
	}
	return err
}

// held is a claim delivered and not yet settled, and when its lease ends.
type held struct {
	Claim
	until time.Time
}

// errNotDelivered reports a claim that Deliver refused (and so said why).
var errNotDelivered = errors.New("timer: not delivered")

// settleConcurrency is how many Store.Ack calls a runner has under way at
// once. A timer whose handler returns while one is under way does not
// wait for it, and so comes again after a crash only if the crash falls
// within its own settle's round trip; one that returns while all are
// under way waits for the first to end and goes with every other that
// returned meanwhile, which bounds the round trips a busy runner makes.
const settleConcurrency = 4

// settler settles the timers a runner delivered, each as soon as its
// handler returned.
type settler struct {
	r       *Runner
	ctx     context.Context // of the settles: not cancelled with the claims
	max     int             // bound on inHand
	collect bool            // keep errors for err (RunOnce), or only log them (Run)

	mu        sync.Mutex
	inHand    int    // delivered, not yet reported
	unsettled int    // delivered, neither settled nor given up
	done      []held // handled, no settle under way yet
	acking    int    // settle goroutines running
	closed    bool   // no settle starts any more
	errs      []error
	changed   chan struct{} // signalled whenever inHand, unsettled or acking falls
}

func newSettler(r *Runner, ctx context.Context, max int, collect bool) *settler {
	return &settler{r: r, ctx: ctx, max: max, collect: collect, changed: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// awaitRoom waits until n more timers fit in hand. Settles do not count:
// a store slow to settle must not make timers late.
func (s *settler) awaitRoom(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		ok := s.inHand+n <= s.max
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *settler) add() {
	s.mu.Lock()
	s.inHand++
	s.unsettled++
	s.mu.Unlock()
}

// report is told what became of a delivered timer: handled (nil), or not
// (an error). It runs on the conversation's goroutine: it must not block,
// so it hands the settle to a goroutine of its own, or to the one under
// way that takes the timers handled meanwhile once its round trip ends.
func (s *settler) report(c held, err error) {
	if err != nil {
		s.notHandled(c.Claim, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inHand--
	signal(s.changed)
	if s.closed {
		// The lease ran out while the handler ran: the timer is another
		// runner's to claim, and comes again.
		s.unsettled--
		return
	}
	s.done = append(s.done, c)
	if s.acking < settleConcurrency {
		s.acking++
		batch := s.done
		s.done = nil
		go s.settle(batch)
	}
}

// notHandled gives up a timer that was not handled: it stays claimed, and
// is due again when the lease runs out.
func (s *settler) notHandled(c Claim, err error) {
	s.mu.Lock()
	s.inHand--
	s.unsettled--
	if s.collect && !errors.Is(err, errNotDelivered) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.errs = append(s.errs, fmt.Errorf("timer %q of %s: %w", c.Name, c.Key, err))
	}
	s.mu.Unlock()
	signal(s.changed)
	if !errors.Is(err, errNotDelivered) { // Deliver's caller has its error
		s.r.log.Warn("timer: not handled; it comes again after its lease", "adapter", s.r.adapter, "key", c.Key, "name", c.Name, "err", err)
	}
}

// settle acknowledges batch, then whatever was handled meanwhile, until
// nothing is left.
func (s *settler) settle(batch []held) {
	claims := make([]Claim, 0, len(batch))
	for len(batch) > 0 {
		claims = claims[:0]
		for _, c := range batch {
			claims = append(claims, c.Claim)
		}
		if err := s.r.st.Ack(s.ctx, claims...); err != nil {
			s.r.log.Error("timer: settling failed; the timers come again after their lease", "adapter", s.r.adapter, "timers", len(batch), "err", err)
			if s.collect {
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
			}
		}
		now := s.r.clock.Now()
		for _, c := range batch {
			if !now.Before(c.until) {
				// Another runner may have claimed it meanwhile, and
				// delivered it too; a lease longer than the handlers
				// and the settle take keeps this from happening.
				s.r.log.Warn("timer: settled after its lease ran out; it may fire twice", "adapter", s.r.adapter, "key", c.Key, "name", c.Name, "late", now.Sub(c.until))
			}
		}
		s.mu.Lock()
		s.unsettled -= len(batch)
		batch, s.done = s.done, nil
		if len(batch) == 0 {
			s.acking--
		}
		s.mu.Unlock()
		signal(s.changed)
	}
}

// finish waits until every delivered timer is settled or given up, or
// until over is closed, and then until no settle is under way, and
// returns the errors kept. Once over is closed no settle starts: the
// timers still in hand are another runner's to claim.
func (s *settler) finish(over <-chan struct{}) error {
	for {
		s.mu.Lock()
		if s.acking == 0 && (s.unsettled == 0 || s.closed) {
			s.closed = true
			err := errors.Join(s.errs...)
			s.mu.Unlock()
			return err
		}
		s.mu.Unlock()
		select {
		case <-s.changed:
		case <-over:
			over = nil
			s.mu.Lock()
			s.closed = true
			s.unsettled -= len(s.done) // handled, but no settle will start: they come again
			s.done = nil
			left := s.unsettled
			s.mu.Unlock()
			if left == 0 {
				continue
			}
			s.r.log.Warn("timer: handlers still running at the end of their lease; their timers may come again", "adapter", s.r.adapter, "timers", left)
		}
	}
}

// leaseOver returns a channel closed once a lease passed on r's clock,
// and a function that stops waiting for it.
func (r *Runner) leaseOver() (<-chan struct{}, func()) {
	over, quit := make(chan struct{}), make(chan struct{})
	expired := r.clock.After(r.lease)
	go func() {
		select {
		case <-expired:
			close(over)
		case <-quit:
		}
	}()
	return over, sync.OnceFunc(func() { close(quit) })
}

// RunOnce claims one batch of due timers, delivers them and returns how
// many it claimed. It settles each timer (Store.Ack) as soon as its
// handler returned, as Run does, and waits for the handlers at most the
// lease: a timer whose handler has not returned by then is left to be
// claimed again, and one still waiting for room in its conversation's
// inbox is not delivered. So a process killed with timers in hand loses
// none of them, and delivers again only those whose handlers were running
// or being settled at the kill.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	now := r.clock.Now()
	until := now.Add(r.lease)
	claims, err := r.st.Claim(ctx, r.adapter, now, r.batch, r.lease)
	if len(claims) == 0 {
		return 0, err
	}
	over, quit := r.leaseOver()
	defer quit()
	dctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-over:
			stop()
		case <-dctx.Done():
		}
	}()
	// Settle even if ctx ended meanwhile: what was handled must not come
	// again.
	s := newSettler(r, context.WithoutCancel(ctx), len(claims), true)
	err = errors.Join(err, r.deliver(dctx, s, claims, until))
	return len(claims), errors.Join(err, s.finish(over))
}
