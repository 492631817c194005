package server

import (
	"context"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// PushChannel is the layer channel on which a server takes outbound events
// for the adapter named adapter, from any process on the same layer: a
// worker, a cron job, a Django Channels site through channels_redis. The
// event names its conversation itself (a telegram.send with its chat_id, a
// slack.send with its channel).
func PushChannel(adapter string) string { return "push." + adapter }

// push delivers what arrives on a's push channel through a, until ctx
// ends. Every server with the adapter takes from the same channel, so each
// event is pushed once, by whichever server received it.
func (s *Server) push(ctx context.Context, a adapters.Runner) {
	ch := PushChannel(a.Name())
	_ = layer.Consume(ctx, s.layer, ch, func(ev event.Event) error {
		if err := adapters.Push(context.WithoutCancel(ctx), a, ev); err != nil {
			s.log.Error("push failed", "adapter", a.Name(), "event", ev.Type(), "err", err)
		}
		return nil
	}, func(err error, retryIn time.Duration) {
		s.log.Warn("push: receive failed; retrying", "channel", ch, "err", err, "retry_in", retryIn)
	})
}
