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
//
// Unlike a loop of RunOnce, Run claims the next batch while the handlers
// of the last run, and settles each timer as soon as its handler
// returned, so that a slow handler holds up no other conversation's
// timers; it holds at most two batches' worth delivered and not yet
// settled. Once ctx ends it still settles, for at most the lease, the
// timers whose handlers return meanwhile.
func (r *Runner) Run(ctx context.Context) error {
	s := newSettler(r, 2*r.batch)
	settled := make(chan struct{})
	stopping := make(chan struct{})
	go func() { defer close(settled); s.run(stopping) }()
	defer func() {
		close(stopping)
		<-settled
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
	claims, err := r.st.Claim(ctx, r.adapter, r.clock.Now(), r.batch, r.lease)
	for _, c := range claims {
		if ctx.Err() != nil {
			break // the rest stay claimed: due again when the lease runs out
		}
		s.add()
		derr := r.d.Deliver(ctx, c.Key, c.Event, c.Scope.NewScope, func(err error) { s.report(c, err) })
		switch {
		case errors.Is(derr, scope.ErrEnded):
			// A conversation that cannot be started again (a WebSocket
			// connection's) has ended: the timer has nowhere to go.
			r.log.Warn("timer dropped: its conversation ended for good", "adapter", r.adapter, "key", c.Key, "name", c.Name, "err", derr)
			s.report(c, nil)
		case derr != nil:
			s.report(c, errNotDelivered)
			err = errors.Join(err, fmt.Errorf("timer %q of %s: %w", c.Name, c.Key, derr))
		}
	}
	return len(claims), err
}

// errNotDelivered reports a claim that Deliver refused (and so said why).
var errNotDelivered = errors.New("timer: not delivered")

// settler acknowledges the timers of a Run whose handlers returned, those
// that returned meanwhile together.
type settler struct {
	r   *Runner
	max int // bound on inHand

	mu     sync.Mutex
	inHand int     // delivered, not yet reported
	done   []Claim // handled, not yet acknowledged
	wake   chan struct{}
	room   chan struct{}
}

func newSettler(r *Runner, max int) *settler {
	return &settler{r: r, max: max, wake: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// awaitRoom waits until n more timers fit in hand.
func (s *settler) awaitRoom(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		ok := s.inHand+n <= s.max
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-s.room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *settler) add() {
	s.mu.Lock()
	s.inHand++
	s.mu.Unlock()
}

// report is told what became of a delivered timer. It runs on the
// conversation's goroutine: it must not block.
func (s *settler) report(c Claim, err error) {
	s.mu.Lock()
	s.inHand--
	if err == nil {
		s.done = append(s.done, c)
	}
	s.mu.Unlock()
	if err != nil && !errors.Is(err, errNotDelivered) {
		// Left claimed: due again when the lease runs out.
		s.r.log.Warn("timer: not handled; it comes again after its lease", "adapter", s.r.adapter, "key", c.Key, "name", c.Name, "err", err)
	}
	signal(s.wake)
	signal(s.room)
}

// run acknowledges handled timers until stopping is closed, and then until
// none is in hand or the lease ran out.
func (s *settler) run(stopping <-chan struct{}) {
	var expired <-chan time.Time
	for {
		s.mu.Lock()
		done, inHand := s.done, s.inHand
		s.done = nil
		s.mu.Unlock()
		if len(done) > 0 {
			if err := s.r.st.Ack(context.Background(), done...); err != nil {
				s.r.log.Error("timer: settling failed; the timers come again after their lease", "adapter", s.r.adapter, "timers", len(done), "err", err)
			}
			continue
		}
		if expired != nil && inHand == 0 {
			return
		}
		select {
		case <-s.wake:
		case <-stopping:
			stopping = nil
			expired = s.r.clock.After(s.r.lease)
		case <-expired:
			s.r.log.Warn("timer: handlers still running at the end of their lease; their timers may come again", "adapter", s.r.adapter, "timers", inHand)
			return
		}
	}
}

// RunOnce claims one batch of due timers, delivers them and returns how
// many it claimed. It settles each timer (Store.Ack) once its handler
// returned, the ones that returned meanwhile together, while it delivers
// the rest, and waits for the handlers at most the lease: a timer whose
// handler has not returned by then is left to be claimed again. So a
// process killed with timers in hand loses none of them, and delivers
// again only those whose handlers returned within a round trip of the
// kill.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	claims, err := r.st.Claim(ctx, r.adapter, r.clock.Now(), r.batch, r.lease)
	if len(claims) == 0 {
		return 0, err
	}
	// Every claim reports once on outcomes, which is buffered for the
	// batch: an ack runs on a conversation's goroutine and must not block.
	outcomes := make(chan outcome, len(claims))
	dctx, stop := context.WithCancel(ctx)
	delivering := make(chan struct{})
	go func() {
		defer close(delivering)
		for i, c := range claims {
			if dctx.Err() != nil {
				// The rest stay claimed: due again when the lease runs out.
				outcomes <- outcome{i: i, err: dctx.Err()}
				continue
			}
			derr := r.d.Deliver(dctx, c.Key, c.Event, c.Scope.NewScope, func(err error) { outcomes <- outcome{i: i, err: err, handled: err == nil} })
			switch {
			case errors.Is(derr, scope.ErrEnded):
				r.log.Warn("timer dropped: its conversation ended for good", "adapter", r.adapter, "key", c.Key, "name", c.Name, "err", derr)
				outcomes <- outcome{i: i, handled: true}
			case derr != nil:
				outcomes <- outcome{i: i, err: derr}
			}
		}
	}()
	defer func() {
		stop()
		<-delivering
	}()
	// Settle even if ctx ended meanwhile: what was handled must not come
	// again. The wait ends with the lease, after which the claims are
	// another runner's to take anyway.
	settle := context.WithoutCancel(ctx)
	expired := r.clock.After(r.lease)
	for left := len(claims); left > 0; {
		var done []Claim
		select {
		case o := <-outcomes:
			left--
			done = r.collect(claims, o, &err, done)
		drain:
			for left > 0 {
				select {
				case o := <-outcomes:
					left--
					done = r.collect(claims, o, &err, done)
				default:
					break drain
				}
			}
		case <-expired:
			r.log.Warn("timer: handlers still running at the end of their lease; their timers may come again", "adapter", r.adapter, "timers", left)
			return len(claims), err
		}
		if len(done) > 0 {
			if aerr := r.st.Ack(settle, done...); aerr != nil {
				err = errors.Join(err, aerr)
			}
		}
	}
	return len(claims), err
}

// outcome is what became of the i-th claim of a batch: handled, or not
// for err.
type outcome struct {
	i       int
	err     error
	handled bool
}

// collect adds the claim of o to done if its handler returned, or why not
// to *err, unless ctx's end left it claimed.
func (r *Runner) collect(claims []Claim, o outcome, err *error, done []Claim) []Claim {
	switch {
	case o.handled:
		return append(done, claims[o.i])
	case errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded):
	default:
		*err = errors.Join(*err, fmt.Errorf("timer %q of %s: %w", claims[o.i].Name, claims[o.i].Key, o.err))
	}
	return done
}
