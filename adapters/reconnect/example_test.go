package reconnect_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// conn is a connection to a made-up platform.
type conn struct{ done chan struct{} }

func (c *conn) Done() <-chan struct{} { return c.done }
func (c *conn) Err() error            { return errors.New("the platform hung up") }
func (c *conn) Close() error {
	fmt.Println("goodbye")
	close(c.done)
	return nil
}

// chatAdapter is all an adapter writes: a dial, a Serve that is the
// Link's, and a Send that takes the live connection.
type chatAdapter struct {
	link  *reconnect.Link[*conn]
	dials int
}

func (a *chatAdapter) Name() string { return "chat" }
func (a *chatAdapter) Serve(ctx context.Context, in *adapters.Intake) error {
	return a.link.Serve(ctx, in)
}
func (a *chatAdapter) Send(ctx context.Context, _ *scope.Scope, ev event.Event) error {
	_, err := a.link.Current(ctx)
	return err
}

func (a *chatAdapter) dial(ctx context.Context, in *adapters.Intake) (*conn, error) {
	a.dials++
	if a.dials == 1 {
		fmt.Println("dial 1: refused")
		return nil, errors.New("connection refused")
	}
	fmt.Printf("dial %d: up\n", a.dials)
	return &conn{done: make(chan struct{})}, nil
}

func Example() {
	a := &chatAdapter{}
	a.link = reconnect.New(a.dial, reconnect.Options{Min: time.Millisecond})
	h := adapters.NewHost(a, quiet)
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), nopApp) }()

	<-h.Ready()
	c, _ := a.link.Current(context.Background())
	_ = h.Shutdown(context.Background())
	<-c.Done() // closed once the scopes are done with it
	fmt.Println(errors.Is(<-done, adapters.ErrStopped))
	// Output:
	// dial 1: refused
	// dial 2: up
	// goodbye
	// true
}
