package layer

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-bots/switchboard/event"
)

// Receiver is the part of a Layer that Consume needs.
type Receiver interface {
	Receive(ctx context.Context, channel string) (event.Event, error)
}

// ErrStopConsuming, returned by a Consume handler, ends the loop without
// an error.
var ErrStopConsuming = errors.New("layer: stop consuming")

// Consume receives from channel and calls handle with each message, in
// order, until ctx ends, the layer closes, or handle returns an error
// (which Consume returns, unless it is ErrStopConsuming). The next message
// is received only once handle returned, so a slow handler leaves the
// rest in the layer, where other consumers of the channel can take them.
//
// A failing Receive (a Redis server away) is not the end: onError hears of
// it, with the wait before the next try, and Consume retries with backoff
// from 10 ms up to 5 s, because the channel outlives an outage.
func Consume(ctx context.Context, r Receiver, channel string, handle func(event.Event) error, onError func(err error, retryIn time.Duration)) error {
	const first, most = 10 * time.Millisecond, 5 * time.Second
	backoff := first
	for {
		ev, err := r.Receive(ctx, channel)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return nil
			}
			if onError != nil {
				onError(err, backoff)
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, most)
			continue
		}
		backoff = first
		if err := handle(ev); err != nil {
			if errors.Is(err, ErrStopConsuming) {
				return nil
			}
			return err
		}
	}
}
