package layer

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/event"
)

// QueuedGroupSender is implemented by layers that can queue a group send
// and return before it is made, so that a caller sending many messages
// need not wait for each in turn: the Redis layer sends what is queued in
// batches, one round trip for many sends.
type QueuedGroupSender interface {
	// QueueGroupSend queues msg for every member of group and returns
	// once it is queued, waiting while ctx allows when the queue is full.
	// done is called once with what GroupSend would have returned, from
	// whichever goroutine made the send (before QueueGroupSend returns,
	// when a backend cannot queue in its configuration); it must not
	// block. A send queued by one
	// goroutine is made after those it queued before, and before any
	// GroupSend it calls after QueueGroupSend returns. When
	// QueueGroupSend returns an error (an invalid name or event, a closed
	// layer, ctx ended while the queue was full) nothing was queued and
	// done is not called.
	QueueGroupSend(ctx context.Context, group string, msg event.Event, done func(error)) error
}

// GroupSender is the part of a layer QueueGroupSend falls back on.
type GroupSender interface {
	GroupSend(ctx context.Context, group string, msg event.Event) error
}

// QueueGroupSend queues msg for group through l when l is or wraps (see
// Unwrapper) a QueuedGroupSender. Otherwise it sends with l.GroupSend
// and, unless that failed at once with an invalid name or event or a
// closed layer, calls done with the outcome before returning.
func QueueGroupSend(ctx context.Context, l GroupSender, group string, msg event.Event, done func(error)) error {
	for x := any(l); x != nil; {
		if q, ok := x.(QueuedGroupSender); ok {
			return q.QueueGroupSend(ctx, group, msg, done)
		}
		u, ok := x.(Unwrapper)
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	err := l.GroupSend(ctx, group, msg)
	if errors.Is(err, ErrInvalidName) || errors.Is(err, event.ErrNoType) || errors.Is(err, ErrClosed) {
		return err
	}
	done(err)
	return nil
}
