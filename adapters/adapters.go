// Package adapters is the runtime every protocol adapter stands on. An
// adapter speaks one platform's protocol (Telegram's Bot API, Slack's
// Socket Mode, WebSocket, IRC, a terminal) and turns its traffic into
// scopes and events for an application; adding a protocol means writing
// an adapter, never changing the core.
//
// # Writing an adapter
//
// An adapter implements Adapter: its name, Serve, which takes the
// platform's traffic and hands each inbound event to an Intake, and Send,
// which turns an outbound event of a scope into a platform call. A Host
// runs it and keeps everything else, the same way for every adapter: the
// scope manager (one instance per conversation, in order, idle timeouts,
// bounds), Run, readiness, Shutdown with a deadline, Close, the push loop
// and the metrics wiring.
//
// For each inbound update Serve computes the conversation key (the chat,
// plus the thread if threads are conversations of their own) and calls
// Intake.Deliver with the key, the typed event, a function that builds the
// Scope of a new conversation (which may keep the adapter's own value for
// the scope with Scope.SetAdapterValue), and an ack. The Host calls the
// ack once it is safe to acknowledge the update to the platform (in one
// process: once its handler returned); an adapter acknowledges nothing
// before (a Telegram offset, a webhook's 200, a Slack ack), so that a crash
// loses nothing the platform will not send again. Deliver waits while the
// conversation's inbox is full: let that backpressure reach the platform
// rather than drop the update.
//
// Inbound message events implement event.ChatMessage, so that chat
// consumers and command routers work unchanged on the new protocol, and
// keep the raw platform payload so that nothing the platform sent is lost.
// Send understands event.Say. A call the platform refuses returns a
// *RefusedError from Send; the conversation goes on.
//
// # Listeners
//
// An adapter that listens for its platform's requests serves them with
// Serve or NewHTTPServer, bounded by a ListenConfig (timeouts for headers,
// bodies, answers and idle connections, a header size bound, caps on open
// connections per listener and per client address), and reads bodies with
// ReadBody within the process's BodyBudget (Intake.Bodies), after every
// check that needs no body. So no client can hold more of the process
// than its share, whoever wrote the adapter.
//
// Package adaptertest is the conformance kit a new adapter runs.
package adapters

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrStopped is returned by Run after Shutdown: a clean stop.
var ErrStopped = errors.New("adapters: adapter stopped")

// Runner is an adapter as a server runs it: a Host, or an adapter that
// keeps its own lifecycle.
type Runner interface {
	// Name identifies the adapter in logs and in Scope.Adapter; a server
	// may run two adapters of one protocol under different names.
	Name() string
	// Run serves app until Shutdown is called (returning ErrStopped), ctx
	// is cancelled (a hard stop, returning ctx's error) or the adapter
	// fails for good.
	Run(ctx context.Context, app scope.Application) error
	// Shutdown stops intake, drains and ends every scope with
	// scope.ReasonShutdown, and waits for them until ctx ends.
	Shutdown(ctx context.Context) error
}

// Pusher is implemented by adapters that can deliver an outbound event to
// any conversation without a live scope: a push from a worker or another
// process.
type Pusher interface {
	Push(ctx context.Context, ev event.Event) error
}

// Observer is told about an adapter's outbound trouble, for metrics; an
// adapter that retries platform calls or waits for rate limits takes one
// as an option. *ops.Metrics satisfies it. Its methods are called from the
// goroutines making the calls, at once, so they must be safe for concurrent
// use and should not block.
type Observer interface {
	// OutboundRetry is called each time a platform call is made again
	// after a 429, a 5xx or a network error.
	OutboundRetry(adapter string)
	// RateLimitWait is called each time an outbound call waited d > 0 for
	// a rate limit: a limiter's slot, or a 429's retry-after. A wait cut
	// short by the call's context reports the part spent waiting. Backoff
	// after a 5xx or a network error is not a rate limit and is not
	// reported.
	RateLimitWait(adapter string, d time.Duration)
}

// DropObserver is the optional interface of an Observer that counts the
// inbound events adapters let go (Intake.Drop), by reason
// (ReasonInboxFull, ReasonUnfit). *ops.Metrics implements it.
type DropObserver interface {
	InboundDropped(adapter, reason string)
}

// Reasons an adapter lets an inbound event go.
const (
	// ReasonInboxFull: the conversation's inbox was full (scope.ErrInboxFull).
	ReasonInboxFull = "inbox_full"
	// ReasonUnfit: the event could not be delivered as it came, such as
	// text that is not UTF-8.
	ReasonUnfit = "unfit"
)

// Dropped reports an inbound event let go because of err.
func (r Report) Dropped(err error) {
	if o, ok := r.obs.(DropObserver); ok {
		reason := ReasonUnfit
		if errors.Is(err, scope.ErrInboxFull) {
			reason = ReasonInboxFull
		}
		o.InboundDropped(r.name, reason)
	}
}

// Report binds an Observer to an adapter's name, for the adapter's calls
// to make. Its zero value, like one made with a nil Observer, reports
// nothing.
type Report struct {
	obs  Observer
	name string
}

// NewReport returns a Report to o, or to nothing if o is nil, for the
// adapter called name.
func NewReport(o Observer, name string) Report { return Report{obs: o, name: name} }

// On reports whether anything observes, so that an adapter can skip
// timing its waits when nothing does.
func (r Report) On() bool { return r.obs != nil }

// Retry reports a platform call about to be made again.
func (r Report) Retry() {
	if r.obs != nil {
		r.obs.OutboundRetry(r.name)
	}
}

// Waited reports a rate-limit wait of d.
func (r Report) Waited(d time.Duration) {
	if r.obs != nil && d > 0 {
		r.obs.RateLimitWait(r.name, d)
	}
}

// ErrUnsupported is wrapped when an adapter lacks an optional capability.
var ErrUnsupported = errors.ErrUnsupported

// Push delivers ev through a, if a can push.
func Push(ctx context.Context, a Runner, ev event.Event) error {
	p, ok := a.(Pusher)
	if !ok {
		return &unsupportedError{adapter: a.Name(), what: "push"}
	}
	return p.Push(ctx, ev)
}

type unsupportedError struct{ adapter, what string }

func (e *unsupportedError) Error() string {
	return "adapters: " + e.adapter + " does not support " + e.what
}
func (e *unsupportedError) Unwrap() error { return ErrUnsupported }
