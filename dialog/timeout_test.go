package dialog_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/dialog"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/timer"
)

type adapter struct{ out chan event.Event }

func (a adapter) Send(_ context.Context, _ *scope.Scope, ev event.Event) error {
	a.out <- ev
	return nil
}

func (adapter) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return consumertest.Disconnect{Protocol: s.Type, Reason: r}
}

// TestTimeoutFiresOnItsOwn: with a timer store, a step's timeout reaches
// the conversation when it passes, with no message from the user, also
// after the conversation ended idle.
func TestTimeoutFiresOnItsOwn(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	timers := new(timer.Memory)
	app := timer.Middleware(timers, timer.WithClock(clock))(dialog.App(order(), dialog.WithClock(clock.Now)))
	a := adapter{out: make(chan event.Event, 16)}
	m, err := scope.NewManager(app, a, scope.Config{IdleTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	newScope := func() *scope.Scope { return &scope.Scope{Type: "chat", Adapter: "chat", Key: "ann"} }
	say := func(text string) string {
		t.Helper()
		if err := m.Deliver(ctx, "ann", consumertest.Message{Text: text}, newScope); err != nil {
			t.Fatal(err)
		}
		return (<-a.out).(event.Say).Text
	}
	say("hi")
	say("S")
	say("Oak")
	if got := say("1"); got != "A S to Oak, ground floor?\n1. yes\n2. no" {
		t.Fatalf("confirm = %q", got)
	}
	m.End("ann", consumertest.Disconnect{Protocol: "chat", Reason: scope.ReasonIdle})

	r := timer.NewRunner(timers, "chat", timer.ManagerDeliverer(m), timer.WithRunnerClock(clock))
	clock.Advance(time.Minute)
	if n, err := r.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if got := (<-a.out).(event.Say).Text; got != "Timed out." {
		t.Fatalf("at the timeout the bot said %q", got)
	}
	if got := say("yes"); got != sizes {
		t.Fatalf("after the timeout %q started %q; want a new order", "yes", got)
	}
}
