package echo_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEchoAnswersInTheConversation(t *testing.T) {
	c := consumertest.New(t, echo.New(), &scope.Scope{Type: console.Protocol, Key: "alice"})
	c.Send(console.Message{Conversation: "alice", Text: "hello"})
	got := consumertest.Receive[console.Send](c)
	if got != (console.Send{Conversation: "alice", Text: "You said: hello"}) {
		t.Fatalf("got %+v", got)
	}
	c.ReceiveNothing()
	c.End(scope.ReasonIdle)
}

func TestEchoRejectsNonChatEvents(t *testing.T) {
	c := consumertest.New(t, echo.New(), &scope.Scope{Type: console.Protocol})
	c.Send(console.Send{Text: "not inbound"})
	end := c.WaitEnded()
	if end.Reason != scope.ReasonError {
		t.Fatalf("ended %+v, want reason error", end)
	}
	if !strings.Contains(c.Logs(), `no handler for event \"console.send\"`) {
		t.Fatalf("log does not name the unknown event type:\n%s", c.Logs())
	}
}

// The echo bot on the console adapter: each line typed is answered.
func Example() {
	in := strings.NewReader("hello\nhow are you?\n")
	a := adapters.NewHost(console.New(in, os.Stdout, console.Config{}))
	err := a.Run(context.Background(), echo.New())
	fmt.Println(err)
	// Output:
	// [console] You said: hello
	// [console] You said: how are you?
	// adapters: adapter stopped
}

// The web page is one more chat protocol: the same bot accepts the
// connection and answers its text frames.
func TestEchoServesTheWebPage(t *testing.T) {
	c := consumertest.NewWebSocket(t, echo.New(), "/")
	if ok, _, _ := c.Connect(); !ok {
		t.Fatal("the echo bot rejected a WebSocket connection")
	}
	c.SendText("hi")
	if got := c.ReceiveText(); got != "You said: hi" {
		t.Fatalf("got %q", got)
	}
	c.Disconnect(1000)
}

func TestEchoAnswersEachMessage(t *testing.T) {
	c := consumertest.NewChat(t, echo.New())
	c.Say("one")
	c.Say("two")
	for i, want := range []string{"You said: one", "You said: two"} {
		if got := c.ReceiveReply(); got.Text != want || got.To != i+1 {
			t.Fatalf("reply %+v, want %q to message %d", got, want, i+1)
		}
	}
}

func TestEchoHandlesEveryChatProtocol(t *testing.T) {
	app := echo.New()
	for p, want := range map[string]bool{"telegram": true, "slack": true, "console": true, "irc": true, "websocket": true, "http": false, "channel": false} {
		if got := app.HandlesProtocol(p); got != want {
			t.Errorf("HandlesProtocol(%q) = %v, want %v", p, got, want)
		}
	}
}
