package layer_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

// A send to a full channel fails, so a producer learns that its consumer
// has fallen behind instead of filling memory.
func Example_channelFull() {
	ctx := context.Background()
	l, err := memory.New(layer.Config{Capacity: 1})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	msg := event.Message{"type": "chat.message", "text": "hi"}
	fmt.Println(l.Send(ctx, "slow.consumer", msg))
	err = l.Send(ctx, "slow.consumer", msg)
	fmt.Println(errors.Is(err, layer.ErrChannelFull))
	fmt.Println(err)
	// Output:
	// <nil>
	// true
	// layer: send to "slow.consumer": layer: channel full
}

func ExampleConfig_CapacityFor() {
	cfg := layer.Config{
		Capacity: 100,
		ChannelCapacity: map[string]int{
			"http.request":    200,
			"websocket.*":     50,
			"websocket.send*": 20,
		},
	}
	for _, ch := range []string{"http.request", "websocket.send!x1", "websocket.receive", "chat.message"} {
		fmt.Println(ch, cfg.CapacityFor(ch))
	}
	// Output:
	// http.request 200
	// websocket.send!x1 20
	// websocket.receive 50
	// chat.message 100
}

// countSends is a middleware that counts sends, the shape a metrics
// decorator takes.
type countSends struct {
	layer.Layer
	n *atomic.Int64
}

func (c countSends) Send(ctx context.Context, channel string, msg event.Event) error {
	c.n.Add(1)
	return c.Layer.Send(ctx, channel, msg)
}

func ExampleMiddleware() {
	var sends atomic.Int64
	var counting layer.Middleware = func(next layer.Layer) layer.Layer {
		return countSends{next, &sends}
	}

	inner, err := memory.New(layer.Config{})
	if err != nil {
		panic(err)
	}
	l := counting(inner)
	defer l.Close()

	ctx := context.Background()
	for range 3 {
		_ = l.Send(ctx, "chat", event.Message{"type": "chat.message"})
	}
	fmt.Println(sends.Load())
	// Output: 3
}

// A relay that sends a stream of messages queues them rather than wait for
// each: with the Redis layer the queued sends go in batches, one round trip
// for many. A layer that cannot queue, such as the in-memory one, sends at
// once, and done hears the outcome before QueueGroupSend returns.
func ExampleQueueGroupSend() {
	ctx := context.Background()
	l, err := memory.New(layer.Config{})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	if err := l.GroupAdd(ctx, "room", "member"); err != nil {
		panic(err)
	}

	failed := make(chan error, 1)
	done := func(err error) {
		if err != nil {
			failed <- err // counted and logged by the caller: nobody waits for it
		}
	}
	for _, text := range []string{"one", "two"} {
		if err := layer.QueueGroupSend(ctx, l, "room", event.Message{"type": "chat.message", "text": text}, done); err != nil {
			panic(err) // refused: nothing was queued
		}
	}
	for range 2 {
		ev, _ := l.Receive(ctx, "member")
		fmt.Println(ev.(event.Message)["text"])
	}
	fmt.Println(len(failed))
	// Output:
	// one
	// two
	// 0
}
