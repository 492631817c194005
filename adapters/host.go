package adapters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrRunning is returned by a second call of Host.Run: a Host runs once.
var ErrRunning = errors.New("adapters: Run called twice")

// Host runs one Adapter: it owns the adapter's scope manager, its
// lifecycle, readiness, the push loop and the metrics wiring, so that every
// adapter keeps the same promises in the same way.
//
// Its lifecycle, for every adapter:
//   - Run may be called once; a second call returns ErrRunning at once.
//   - Shutdown before Run (or during it) stops the Host; a Run that has
//     not started serving returns ErrStopped at once.
//   - Shutdown stops intake, lets every scope handle what it was given,
//     ends every scope with scope.ReasonShutdown, and returns ctx's error
//     if ctx ends first, after logging each scope still running.
//   - Close stops at once: handlers see a cancelled context, and Close
//     waits for them for at most a second.
//   - Cancelling Run's context stops like Close, and Run returns the
//     context's error.
type Host struct {
	a    Adapter
	opts hostOptions

	ready     chan struct{}
	readyOnce sync.Once

	health atomic.Pointer[healthState] // nil: reachable
	drops  atomic.Int64                // Intake.Drop's count

	mu       sync.Mutex
	ran      bool
	stopped  bool           // Shutdown or Close was called
	m        *scope.Manager // set while Run serves
	in       *Intake        // the adapter's intake, set while Run serves
	stopIn   context.CancelFunc
	grace    context.Context // ends when Shutdown stops waiting for Serve
	endGrace context.CancelFunc
	served   chan struct{} // closed when Serve returned
}

var _ Runner = (*Host)(nil)

// HostOption configures a Host.
type HostOption func(*hostOptions)

type hostOptions struct {
	scopes  scope.Config
	log     *slog.Logger
	obs     Observer
	layer   layer.Layer
	clock   scope.Clock
	bodies  *BodyBudget
	journal Journal
}

// WithScopes bounds and times the adapter's conversations. Default: the
// zero scope.Config, whose fields all have defaults.
func WithScopes(c scope.Config) HostOption { return func(o *hostOptions) { o.scopes = c } }

// WithLogger sets the logger of the Host, its scope manager and its
// Intake. Default: slog.Default().
func WithLogger(l *slog.Logger) HostOption {
	return func(o *hostOptions) {
		if l != nil {
			o.log = l
		}
	}
}

// WithObserver reports the adapter's outbound retries and rate-limit
// waits, through Intake.Report. Default: none.
func WithObserver(obs Observer) HostOption { return func(o *hostOptions) { o.obs = obs } }

// WithPushes makes the Host take outbound events from its push channel on
// l (PushChannel of its name) and deliver them through the adapter, if it
// is a Pusher. Default: no pushes.
func WithPushes(l layer.Layer) HostOption { return func(o *hostOptions) { o.layer = l } }

// WithClock sets the clock of the Host's scope manager and of the
// adapter's own waits, which read it through Intake.Clock. Default: the
// wall clock.
func WithClock(c scope.Clock) HostOption { return func(o *hostOptions) { o.clock = c } }

// WithBodyBudget bounds the request bodies the adapter's listeners hold in
// memory at once, through Intake.Bodies: a server gives the same budget to
// every Host, so that it bounds the whole process. Default: a budget of
// DefaultBodyBudget for this Host alone.
func WithBodyBudget(b *BodyBudget) HostOption { return func(o *hostOptions) { o.bodies = b } }

// ScopeConfigurer is implemented by an adapter whose scopes need settings
// of their own whatever the configuration says, such as a WebSocket
// connection's scope, which lasts as long as the connection and so must
// never end for being idle. NewHost applies it to the WithScopes config.
type ScopeConfigurer interface {
	// ScopeConfig returns c as the adapter's scopes need it.
	ScopeConfig(c scope.Config) scope.Config
}

// NewHost returns a Host that runs a, with a's ScopeConfig applied to the
// scopes config if a is a ScopeConfigurer.
func NewHost(a Adapter, opts ...HostOption) *Host {
	o := hostOptions{log: slog.Default()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if sc, ok := a.(ScopeConfigurer); ok {
		o.scopes = sc.ScopeConfig(o.scopes)
	}
	if o.bodies == nil {
		o.bodies = NewBodyBudget(0)
	}
	return &Host{a: a, opts: o, ready: make(chan struct{})}
}

// PushChannel is the layer channel on which Hosts take outbound events for
// the adapter named adapter, from any process on the same layer: a worker,
// a cron job, a Django Channels site through channels_redis. The event
// names its conversation itself (a telegram.send with its chat_id).
func PushChannel(adapter string) string { return "push." + adapter }

// Name returns the adapter's name.
func (h *Host) Name() string { return h.a.Name() }

// Adapter returns the adapter the Host runs.
func (h *Host) Adapter() Adapter { return h.a }

// ServedProtocols returns the protocols of the scopes the adapter makes:
// its Protocols, or its name.
func (h *Host) ServedProtocols() []string {
	if p, ok := h.a.(Protocols); ok {
		return p.Protocols()
	}
	return []string{h.a.Name()}
}

// Ready is closed once the adapter said it serves (Intake.Ready): its
// listener is bound, its first poll made.
func (h *Host) Ready() <-chan struct{} { return h.ready }

// healthState is why the adapter cannot reach its platform, and since
// when.
type healthState struct {
	err   error
	since time.Time
}

// ErrUnreachable is wrapped by Health's error while the adapter cannot
// reach its platform.
var ErrUnreachable = errors.New("cannot reach its platform")

// Health returns why the adapter cannot serve now, having told the Host
// it cannot reach its platform (Intake.Unreachable), wrapping
// ErrUnreachable and the adapter's error; or nil.
func (h *Host) Health() error {
	st := h.health.Load()
	if st == nil {
		return nil
	}
	return fmt.Errorf("%w since %s: %w", ErrUnreachable, st.since.UTC().Format(time.RFC3339), st.err)
}

func (h *Host) setHealth(err error) {
	if err == nil {
		if h.health.Swap(nil) != nil {
			h.opts.log.Info("adapter connected again", "adapter", h.Name())
		}
		return
	}
	old := h.health.Load()
	since := time.Now()
	if old != nil {
		since = old.since
	} else {
		h.opts.log.Warn("adapter disconnected: cannot reach its platform", "adapter", h.Name(), "err", err)
	}
	h.health.Store(&healthState{err: err, since: since})
}

// Len returns the number of live scopes, or 0 when not running.
func (h *Host) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		return 0
	}
	return h.m.Len()
}

// Run serves app until Shutdown (returning ErrStopped), until ctx ends (a
// hard stop like Close, returning ctx's error), or until the adapter's
// Serve fails (returning its error, after ending every scope). A Serve
// that returns ErrStopped by itself, its platform's intake having ended
// (the console's input closed), is a clean stop: Run drains and ends every
// scope and returns ErrStopped.
func (h *Host) Run(ctx context.Context, app scope.Application) error {
	h.mu.Lock()
	switch {
	case h.ran:
		h.mu.Unlock()
		return ErrRunning
	case h.stopped:
		h.ran = true
		h.mu.Unlock()
		return ErrStopped
	}
	h.ran = true
	mopts := []scope.Option{scope.WithLogger(h.opts.log)}
	if h.opts.clock != nil {
		mopts = append(mopts, scope.WithClock(h.opts.clock))
	}
	m, err := scope.NewManager(app, protocol{h}, h.opts.scopes, mopts...)
	if err != nil {
		h.mu.Unlock()
		return fmt.Errorf("%s: %w", h.Name(), err)
	}
	serveCtx, stopIn := context.WithCancel(ctx)
	grace, endGrace := context.WithCancel(context.WithoutCancel(ctx))
	in := &Intake{h: h, m: m, grace: grace, report: NewReport(h.opts.obs, h.Name())}
	h.m, h.in, h.stopIn, h.grace, h.endGrace = m, in, stopIn, grace, endGrace
	h.served = make(chan struct{})
	h.mu.Unlock()
	// The grace ends on every path but a Shutdown's, which ends it once
	// the scopes are done (Intake.Grace): not when Run returns.

	var pushes sync.WaitGroup
	if p, ok := h.a.(Pusher); ok && h.opts.layer != nil {
		pushes.Go(func() { newPushes(h, p).run(serveCtx, grace) })
	}
	// A cancelled ctx is a hard stop, like Close: handlers and Serve's
	// grace end at once, not once Serve returned, since Serve may be
	// waiting for those very handlers (a webhook answering once its event
	// is acknowledged).
	hard := make(chan struct{})
	stopHard := context.AfterFunc(ctx, func() {
		defer close(hard)
		endGrace()
		_ = m.Close()
	})
	detach := func(context.Context) {}
	if h.opts.journal != nil {
		detach = h.opts.journal.Attach(h.Name(), hostSink{h: h, m: m})
	}
	serveErr := h.a.Serve(serveCtx, in)
	// The journal stops handing this process records before the manager
	// stops, and waits for those it handed over (a cancelled ctx ends
	// that wait at once), so that they are handled rather than redone.
	detach(ctx)
	close(h.served)
	stopIn()
	hardStopped := !stopHard()

	h.mu.Lock()
	stopped := h.stopped
	h.mu.Unlock()
	if !stopped {
		// Serve ended by itself: pushes still queued have the adapter's
		// grace while Shutdown drains; here there is none to wait for.
		endGrace()
	}
	pushes.Wait()
	switch {
	case hardStopped:
		<-hard
		return ctx.Err()
	case ctx.Err() != nil:
		endGrace()
		_ = m.Close()
		return ctx.Err()
	case stopped:
		// Shutdown owns the manager's end; Run returns when it began.
		if serveErr != nil {
			h.opts.log.Error("adapter failed while stopping", "adapter", h.Name(), "err", serveErr)
		}
		return ErrStopped
	case errors.Is(serveErr, ErrStopped):
		// The platform's intake ended by itself (the console's input
		// closed): a clean stop, with every scope drained and ended,
		// unless ctx ends first.
		h.mu.Lock()
		h.stopped = true
		h.mu.Unlock()
		_ = m.Shutdown(ctx)
		return ErrStopped
	case serveErr == nil:
		serveErr = errors.New("Serve returned before Shutdown")
	}
	// The adapter failed on its own: end its scopes, then report it.
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = m.Shutdown(sctx)
	return fmt.Errorf("%s: %w", h.Name(), serveErr)
}

// Shutdown stops intake (Serve's context ends), waits for Serve to hand
// over what it took, lets every scope handle what it has queued, and ends
// every scope with scope.ReasonShutdown. When ctx ends first it returns
// ctx's error at once, having logged each scope still running. Shutdown
// before Run makes Run return ErrStopped.
func (h *Host) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.stopped = true
	m, stopIn, served, endGrace := h.m, h.stopIn, h.served, h.endGrace
	h.mu.Unlock()
	if m == nil {
		return nil
	}
	stopIn()
	select {
	case <-served:
	case <-ctx.Done():
		_ = m.Shutdown(ctx) // names the scopes still running, at once
		h.opts.log.Warn("adapter intake still running at the shutdown deadline", "adapter", h.Name())
		endGrace()
		return ctx.Err()
	}
	// Stop the grace context after the manager is done, so that an intake
	// waiting for acknowledgements (a webhook) keeps going meanwhile.
	defer endGrace()
	return m.Shutdown(ctx)
}

// Close stops at once: intake stops, handlers see a cancelled context and
// every scope ends with scope.ReasonShutdown; Close waits for handlers at
// most scope.DefaultCloseWait.
func (h *Host) Close() error {
	h.mu.Lock()
	h.stopped = true
	m, stopIn, endGrace := h.m, h.stopIn, h.endGrace
	h.mu.Unlock()
	if m == nil {
		return nil
	}
	stopIn()
	endGrace()
	return m.Close()
}

// ErrNotServing is returned by Host.Deliver while the Host does not serve:
// before Run, and once Shutdown or Close was called.
var ErrNotServing = errors.New("adapters: adapter not serving")

// Deliver hands ev to the conversation filed under key from outside the
// adapter, such as a timer come due, starting its scope with newScope when
// it has none, as the adapter's own Intake.Deliver does: with a journal
// (WithJournal) ev is appended and ack told once it is, and the process
// owning the conversation serves it; without one ack is told once its
// handler returned (see Intake.Deliver). It fails with ErrNotServing,
// having done nothing, while the Host does not serve.
//
// A scope that lasts a connection (an adapter whose ScopeConfig sets
// NoEvict, such as a WebSocket's) cannot be started again without it:
// there ev goes to the live scope only, ack is told once it is queued, and
// without a live scope Deliver fails with an error wrapping
// scope.ErrEnded.
func (h *Host) Deliver(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error {
	in, err := h.serving()
	if err != nil {
		return err
	}
	if h.opts.scopes.NoEvict {
		if err := in.Post(ctx, key, ev); err != nil {
			return fmt.Errorf("%s: conversation %q: %w", h.Name(), key, err)
		}
		if ack != nil {
			ack(nil)
		}
		return nil
	}
	return in.Deliver(ctx, key, ev, newScope, ack)
}

// serving returns the Host's intake while it serves, or ErrNotServing.
func (h *Host) serving() (*Intake, error) {
	h.mu.Lock()
	in, stopped := h.in, h.stopped
	h.mu.Unlock()
	if in == nil || stopped {
		return nil, fmt.Errorf("%s: %w", h.Name(), ErrNotServing)
	}
	return in, nil
}

// TryPost queues ev for the live scope of conversation key in this
// process without waiting: it fails with an error wrapping scope.ErrEnded
// when the conversation has no live scope here, scope.ErrInboxFull while
// its inbox is full, and ErrNotServing while the Host does not serve.
func (h *Host) TryPost(key string, ev event.Event) error {
	in, err := h.serving()
	if err != nil {
		return err
	}
	return in.TryPost(key, ev)
}

// DeliverHere hands ev to the conversation key in this process, waiting
// for room in its inbox until ctx ends and starting its scope with
// newScope when it has none, whatever the Host's journal: for events that
// the process serving the conversation took itself, such as the messages
// of a conversation channel whose partition it owns. It fails with
// ErrNotServing, having done nothing, while the Host does not serve.
func (h *Host) DeliverHere(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope) error {
	in, err := h.serving()
	if err != nil {
		return err
	}
	return in.m.DeliverAck(ctx, key, ev, newScope, nil)
}

// Push delivers an outbound event naming its own conversation, without a
// live scope, if the adapter is a Pusher.
func (h *Host) Push(ctx context.Context, ev event.Event) error {
	p, ok := h.a.(Pusher)
	if !ok {
		return &unsupportedError{adapter: h.Name(), what: "push"}
	}
	return p.Push(ctx, ev)
}

// protocol is the scope manager's view of the Host.
type protocol struct{ h *Host }

func (p protocol) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	return p.h.a.Send(ctx, s, ev)
}

// Cork and Uncork pass the scope manager's hint on to an adapter that is
// a scope.Corker.
func (p protocol) Cork(s *scope.Scope) {
	if c, ok := p.h.a.(scope.Corker); ok {
		c.Cork(s)
	}
}

func (p protocol) Uncork(s *scope.Scope) {
	if c, ok := p.h.a.(scope.Corker); ok {
		c.Uncork(s)
	}
}

func (p protocol) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	if d, ok := p.h.a.(Disconnecter); ok {
		return d.Disconnect(s, r)
	}
	return Disconnect{Protocol: s.Type, Reason: r}
}

func (p protocol) Ended(s *scope.Scope, r scope.Reason, err error) {
	if e, ok := p.h.a.(Ender); ok {
		e.Ended(s, r, err)
	}
}
