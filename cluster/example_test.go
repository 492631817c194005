package cluster_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// hello is the example platform's one event.
type hello struct {
	Text string `msgpack:"text"`
}

func (hello) Type() string { return "hello.message" }

// platform is the example's adapter: it opts in to the durable intake by
// decoding its events back, and hands its Intake to the example.
type platform struct{ in chan *adapters.Intake }

func (platform) Name() string { return "hello" }

func (p platform) Serve(ctx context.Context, in *adapters.Intake) error {
	in.Ready()
	p.in <- in
	<-ctx.Done()
	return nil
}

func (platform) Send(context.Context, *scope.Scope, event.Event) error { return nil }

func (platform) DecodeInbound(m event.Message) (event.Event, error) { return event.Decode[hello](m) }

// A Host whose intake is a Node appends each event to Redis before the
// adapter acknowledges it; the owner of the conversation's partition (here
// the same process, alone in its cluster) then handles it.
func Example() {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", PoolSize: 32})
	defer c.Close()
	prefix := "example." + strings.ToLower(rand.Text()[:8])
	defer func() { // delete the example's keys
		ctx := context.Background()
		for it := c.Scan(ctx, 0, prefix+"*", 100).Iterator(); it.Next(ctx); {
			c.Del(ctx, it.Val())
		}
	}()
	node, err := cluster.New(c, prefix, cluster.Config{Partitions: 4, Lease: 300 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	handled := make(chan string, 1)
	app := scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if h, ok := ev.(hello); ok {
				handled <- s.Chat.ID + ": " + h.Text
			}
			return nil
		}), nil
	})
	p := platform{in: make(chan *adapters.Intake, 1)}
	h := adapters.NewHost(p, adapters.WithJournal(node))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	in := <-p.in

	newScope := func() *scope.Scope { return &scope.Scope{Type: "hello", Chat: scope.Chat{ID: "chat-1"}} }
	err = in.Deliver(context.Background(), "chat-1", hello{Text: "hi"}, newScope, func(err error) {
		fmt.Println("safe to acknowledge:", err == nil)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-handled)
	_ = h.Shutdown(context.Background())
	<-done
	// Output:
	// safe to acknowledge: true
	// chat-1: hi
}
