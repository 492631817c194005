package adapters

import (
	"context"
	"log/slog"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Intake is what an adapter's Serve hands inbound events to. It stands for
// the Host's scope manager and decides when an event is safe to
// acknowledge to the platform.
//
// All methods are safe for concurrent use.
type Intake struct {
	h       *Host
	m       *scope.Manager
	grace   context.Context
	report  Report
	appends appender // TryDeliver's appends
}

// Deliver hands ev to the conversation filed under key, starting a scope
// built by newScope when the key has none (newScope is called at most
// once, with a lock held: it must only build the Scope, and may set the
// adapter's own value on it). While the conversation's inbox is full,
// Deliver waits until ctx ends: backpressure reaches the platform and
// nothing is dropped.
//
// ack, if not nil, is called once, when it is safe to acknowledge ev to
// the platform (ack(nil)), or with an error wrapping scope.ErrNotHandled
// when ev will not be handled in this process and must not be
// acknowledged, so that the platform sends it again. In one process that
// is once ev's handler returned. ack is called only if Deliver returns
// nil; it runs on the conversation's goroutine and must not block.
//
// With a Journal (WithJournal), safe means appended: Deliver appends ev,
// calls ack(nil) before it returns, and the process owning the
// conversation handles ev; newScope is then called on every Deliver.
func (in *Intake) Deliver(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error {
	if in.journaled() {
		if done, err := in.append(ctx, key, ev, newScope, ack); done {
			return err
		}
	}
	return in.m.DeliverAck(ctx, key, ev, newScope, ack)
}

// TryDeliver is Deliver that never waits: it fails with
// scope.ErrInboxFull while the conversation's inbox is full. With a
// Journal it returns at once and appends in the background, each
// conversation's events in the order they were given, so that one
// adapter goroutine feeding many conversations (a poller) is not held up
// by a round trip per event: ack then says whether ev was appended (nil)
// or not (an error wrapping scope.ErrNotHandled). The events given while
// an append is under way go to the journal together next (see
// BatchJournal).
func (in *Intake) TryDeliver(key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error {
	if in.journaled() {
		in.appendLater(key, ev, newScope, ack)
		return nil
	}
	return in.m.TryDeliver(key, ev, newScope, ack)
}

// DeliverInline is Deliver for an adapter that holds a goroutine per
// connection anyway (a WebSocket's read loop): the calling goroutine
// handles ev itself when the scope is idle. See scope.Manager.DeliverInline.
// A connection acknowledges nothing, so there is no ack.
func (in *Intake) DeliverInline(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope) error {
	return in.m.DeliverInline(ctx, key, ev, newScope)
}

// Post queues ev for the live scope filed under key without starting one
// (scope.ErrEnded without a live scope): how an adapter tells a
// conversation the outcome of work done elsewhere.
func (in *Intake) Post(ctx context.Context, key string, ev event.Event) error {
	return in.m.Post(ctx, key, ev)
}

// TryPost is Post that never waits: it fails with scope.ErrInboxFull while
// the inbox is full.
func (in *Intake) TryPost(key string, ev event.Event) error { return in.m.TryPost(key, ev) }

// End ends the scope filed under key with final as its last event, after
// the events already queued: a connection closed by its peer. It reports
// whether a live scope was found.
func (in *Intake) End(key string, final scope.Final) bool {
	return in.m.End(key, final)
}

// Ready tells the Host that the adapter serves: its listener is bound, its
// first poll made. Calls after the first do nothing.
func (in *Intake) Ready() { in.h.readyOnce.Do(func() { close(in.h.ready) }) }

// Unreachable tells the Host that the adapter cannot reach its platform
// now (a poll failed, the socket dropped) and why: readiness reports the
// adapter not ready, with err, until Reachable. The adapter goes on
// retrying on its own.
func (in *Intake) Unreachable(err error) { in.h.setHealth(err) }

// Reachable tells the Host that the adapter reaches its platform again.
func (in *Intake) Reachable() { in.h.setHealth(nil) }

// Drop counts and logs an inbound event the adapter lets go, for a
// platform that will not send it again: one TryDeliver refused
// (scope.ErrInboxFull) or one the adapter found unfit to deliver. The
// warning names the adapter, key, err and the adapter's count of drops
// so far, with attrs (slog's key-value pairs) after them; the Observer
// counts it too if it is a DropObserver. A reader that drops rather than
// waits keeps one full inbox from stalling every other conversation on
// its connection.
func (in *Intake) Drop(key string, err error, attrs ...any) {
	n := in.h.drops.Add(1)
	in.report.Dropped(err)
	in.h.opts.log.Warn("inbound message dropped",
		append([]any{"adapter", in.h.Name(), "key", key, "err", err, "dropped_total", n}, attrs...)...)
}

// Name returns the adapter's name, for its log lines.
func (in *Intake) Name() string { return in.h.Name() }

// Logger returns the Host's logger.
func (in *Intake) Logger() *slog.Logger { return in.h.opts.log }

// Clock returns the Host's clock (WithClock; default: the wall clock),
// for the adapter's own waits (flood control, backoff, pings), so that a
// test that moves the Host's clock moves them too.
func (in *Intake) Clock() scope.Clock {
	if c := in.h.opts.clock; c != nil {
		return c
	}
	return scope.WallClock{}
}

// Report returns the Host's observer, bound to the adapter's name.
func (in *Intake) Report() Report { return in.report }

// Grace returns a context that ends when the Host no longer needs the
// adapter's connection: after Shutdown, once every scope has handled its
// final event (so that their last replies still go out), or at Shutdown's
// deadline; at once on Close or when Run's context ends. An adapter bounds
// its own draining with it (an HTTP server's Shutdown) and keeps a
// connection open until it ends.
func (in *Intake) Grace() context.Context { return in.grace }

// Len returns the number of live scopes.
func (in *Intake) Len() int { return in.m.Len() }

// Bodies returns the budget that bounds the request bodies held in memory
// at once (WithBodyBudget), for ReadBody.
func (in *Intake) Bodies() *BodyBudget { return in.h.opts.bodies }
