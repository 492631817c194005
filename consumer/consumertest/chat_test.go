package consumertest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Greeter answers each message and, on the first, also speaks to the
// conversation.
type Greeter struct {
	consumer.Chat
	seen bool
}

func (g *Greeter) Message(ctx context.Context, m event.ChatMessage) error {
	if !g.seen {
		g.seen = true
		if err := g.Say(ctx, "Welcome, "+g.Scope().User.Name+"!"); err != nil {
			return err
		}
	}
	return g.Reply(ctx, "You said: "+m.ChatText())
}

func newGreeter() scope.Application {
	return consumer.New(func() *Greeter { return new(Greeter) }, consumer.OnMessage((*Greeter).Message))
}

// testGreeter is a test of the Greeter consumer: the test says messages,
// as a chat adapter delivers them, and reads what the bot said and which
// message it answered.
func testGreeter(t testing.TB) {
	c := consumertest.NewChat(t, newGreeter())
	c.Say("hello")
	fmt.Println(c.ReceiveSay())
	r := c.ReceiveReply()
	fmt.Println(r.To, r.Text)
	c.Say("again")
	fmt.Println(c.ReceiveReply())
	c.End(scope.ReasonIdle)
}

func ExampleChat() {
	// In a package's tests: func TestGreeter(t *testing.T) { testGreeter(t) }
	t := newExampleT()
	defer t.cleanup()
	testGreeter(t)
	// Output:
	// Welcome, Tester!
	// 1 You said: hello
	// {2 You said: again}
}

// exampleT is the part of testing.TB an example needs to run a test
// function: failures are printed, cleanups run when the example ends.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func newExampleT() *exampleT                  { return &exampleT{} }
func (e *exampleT) Helper()                   {}
func (e *exampleT) Cleanup(f func())          { e.cleanups = append(e.cleanups, f) }
func (e *exampleT) Errorf(f string, a ...any) { fmt.Printf("error: "+f+"\n", a...) }
func (e *exampleT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (e *exampleT) cleanup() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

func TestChatTellsRepliesFromSays(t *testing.T) {
	c := consumertest.NewChat(t, newGreeter())
	c.Scope().User.Name = "Ada"
	if m := c.Say("hi"); m.ID != 1 {
		t.Fatalf("first message numbered %d", m.ID)
	}
	if got := c.ReceiveSay(); got != "Welcome, Ada!" {
		t.Fatalf("said %q", got)
	}
	if got := c.ReceiveReply(); got != (consumertest.Reply{To: 1, Text: "You said: hi"}) {
		t.Fatalf("reply %+v", got)
	}
	c.Say("bye")
	if got := c.ReceiveReply(); got.To != 2 {
		t.Fatalf("reply %+v, want one to message 2", got)
	}
	c.ReceiveNothing()
	c.End(scope.ReasonIdle)
}

// A wrong kind of answer fails the test: the kit checks what the bot sent,
// not only its text.
func TestChatFailsOnTheWrongKindOfAnswer(t *testing.T) {
	for _, tt := range []struct {
		name string
		read func(*consumertest.Chat)
	}{
		{"ReceiveSay on a reply", func(c *consumertest.Chat) { c.ReceiveSay() }},
		{"ReceiveReply on a say", func(c *consumertest.Chat) { c.ReceiveReply() }},
	} {
		ft := &fatalT{TB: t}
		c := consumertest.NewChat(ft, consumer.New(func() *Greeter { return &Greeter{seen: tt.name == "ReceiveSay on a reply"} },
			consumer.OnMessage((*Greeter).Message)))
		c.Say("x")
		runFatal(func() { tt.read(c) })
		if !ft.failed {
			t.Errorf("%s: the test did not fail", tt.name)
		}
	}
}

// fatalT records a Fatalf instead of ending the test, so a test can check
// that the kit fails where it must.
type fatalT struct {
	testing.TB
	failed bool
}

type fatal struct{}

func (f *fatalT) Fatalf(string, ...any) { f.failed = true; panic(fatal{}) }
func (f *fatalT) Helper()               {}

func runFatal(fn func()) {
	defer func() {
		if v := recover(); v != nil && v != (fatal{}) {
			panic(v)
		}
	}()
	fn()
}

var _ event.ChatMessage = consumertest.Message{}
