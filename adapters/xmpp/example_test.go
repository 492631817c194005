package xmpp_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/xmpp"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// An echo bot in a room and in one-to-one chats. It needs a server, so
// the example is compiled but not run.
func Example() {
	a, err := xmpp.New("xmpp", xmpp.Config{
		JID:      "bot@example.org/switchboard",
		Password: xmpp.Secret(os.Getenv("XMPP_PASSWORD")),
		Rooms:    []string{"go@rooms.example.org"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	h := adapters.NewHost(a)
	go func() {
		<-ctx.Done()
		_ = h.Shutdown(context.Background())
	}()
	fmt.Println(h.Run(context.Background(), echo.New()))
}

// A worker pushes a message to a room without a live conversation: the
// Host takes it from the layer channel push.xmpp.
func ExampleSend() {
	ev := xmpp.Send{To: "go@rooms.example.org", Text: "the build is green"}
	fmt.Println(ev.Type(), adapters.PushChannel("xmpp"))
	// Output: xmpp.send push.xmpp
}
