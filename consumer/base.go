package consumer

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// Base is embedded in every consumer type. It holds the instance's scope and
// connection, dispatches events to the type's handlers, and gives handlers
// Send, the instance's own layer channel and its groups.
//
// Base implements scope.Instance; a consumer type must not define its own
// Handle method.
type Base struct {
	scope *scope.Scope
	conn  scope.Conn
	self  Instance
	disp  dispatcher
	ch    *channel  // nil until the instance first uses the channel layer
	state *stateRun // nil unless the type embeds Stateful
}

func (b *Base) base() *Base { return b }

// Scope returns the instance's scope.
func (b *Base) Scope() *scope.Scope { return b.scope }

// Send sends an outbound event to the adapter that owns the scope.
func (b *Base) Send(ctx context.Context, ev event.Event) error {
	if b.state != nil && b.state.hold(ev) {
		return nil // sent once the handler's state is saved
	}
	return b.conn.Send(ctx, ev)
}

// Post queues ev for this instance, after the events already queued: the
// way to report back from work started on another goroutine. Do not Post to
// a full inbox from a handler of the same instance: only the instance
// itself empties it.
func (b *Base) Post(ctx context.Context, ev event.Event) error {
	return b.conn.Post(ctx, ev)
}

// Handle implements scope.Instance: it runs the handler registered for ev's
// type. After the final event's handler it leaves the instance's groups and
// stops receiving from its channel.
//
// A handler error that wraps event.ErrRefused (the platform refused a send:
// the user blocked the bot) is logged and does not end the conversation:
// the instance and its state go on with the next event.
func (b *Base) Handle(ctx context.Context, ev event.Event) error {
	if r, ok := ev.(layer.Received); ok {
		if ev = b.received(r); ev == nil {
			return nil // dropped, counted and logged
		}
	}
	if b.state != nil {
		return b.handleStateful(ctx, ev)
	}
	return b.handle(ctx, ev)
}

func (b *Base) handle(ctx context.Context, ev event.Event) error {
	if _, final := ev.(scope.Final); final {
		err := b.disp.dispatch(ctx, b.self, ev)
		return errors.Join(err, b.closeChannel(ctx))
	}
	err := b.disp.dispatch(ctx, b.self, ev)
	if err != nil && errors.Is(err, event.ErrRefused) {
		b.Logger().Warn("the platform refused a send; the conversation goes on",
			"event", ev.Type(), "err", err)
		return nil
	}
	return err
}
