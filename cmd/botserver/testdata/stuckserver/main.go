// Command stuckserver is a botserver of its own, built the way a user
// builds one: the built-in registry plus a bot. Its "stuck" bot answers
// the first WebSocket message with "stuck" and then never returns from
// its handler, ignoring its context, so that tests can prove that a stop
// ends within shutdown.grace whatever a handler does. Its "panic" bot
// panics on every HTTP request, so that tests can flood the logs with
// panics.
package main

import (
	"context"
	"time"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// stuck is a WebSocket consumer whose handler hangs.
type stuck struct{ consumer.WebSocket }

// Receive says it is stuck, then hangs, deaf to ctx.
func (b *stuck) Receive(ctx context.Context, _ websocket.Receive) error {
	if err := b.SendText(ctx, "stuck"); err != nil {
		return err
	}
	time.Sleep(24 * time.Hour)
	return nil
}

// panicky is an HTTP consumer whose every request panics.
type panicky struct{ consumer.HTTP }

// Request panics.
func (*panicky) Request(context.Context, []byte) error { panic("panicky: every request panics") }

func main() {
	reg := builtin.Registry()
	reg.Register("panic", func(server.Deps) (scope.Application, error) {
		return consumer.New(func() *panicky { return new(panicky) }, consumer.OnRequest((*panicky).Request)), nil
	})
	reg.Register("stuck", func(server.Deps) (scope.Application, error) {
		return consumer.New(func() *stuck { return new(stuck) }, consumer.On((*stuck).Receive)), nil
	})
	server.Main(reg, "stuck")
}
