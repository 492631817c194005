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
	// console: adapters: adapter stopped
}
