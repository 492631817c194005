package server

import (
	"context"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// push delivers what arrives on a's push channel (adapters.PushChannel)
// through a, until ctx ends, for an adapter that keeps its own lifecycle;
// a Host runs this loop itself. Every server with the adapter takes from
// the same channel, so each event is pushed once, by whichever server
// received it.
func (s *Server) push(ctx context.Context, a adapters.Runner) {
	ch := adapters.PushChannel(a.Name())
	_ = layer.Consume(ctx, s.layer, ch, func(ev event.Event) error {
		if err := adapters.Push(context.WithoutCancel(ctx), a, ev); err != nil {
			s.log.Error("push failed", "adapter", a.Name(), "event", ev.Type(), "err", err)
		}
		return nil
	}, func(err error, retryIn time.Duration) {
		s.log.Warn("push: receive failed; retrying", "channel", ch, "err", err, "retry_in", retryIn)
	})
}
