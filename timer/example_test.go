package timer_test

import (
	"context"
	"fmt"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/timer"
)

// Ring is the event a timer brings back.
type Ring struct {
	What string `msgpack:"what"`
}

func (Ring) Type() string { return "alarm.ring" }

// Alarm sets a timer on every message and says so when it rings.
type Alarm struct{ consumer.Chat }

func (a *Alarm) Message(ctx context.Context, m event.ChatMessage) error {
	// A name per conversation: setting it again replaces the pending one.
	if err := timer.After(ctx, a.Scope(), "alarm", 0, Ring{What: m.ChatText()}); err != nil {
		return err
	}
	return a.Reply(ctx, "alarm set")
}

func (a *Alarm) Ring(ctx context.Context, r Ring) error { return a.Say(ctx, "ring: "+r.What) }

type printer struct{}

func (printer) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	switch ev := ev.(type) {
	case consumertest.Reply:
		fmt.Println(s.Key, ev.Text)
	case event.Say:
		fmt.Println(s.Key, ev.Text)
	}
	return nil
}

func (printer) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return consumertest.Disconnect{Protocol: s.Type, Reason: r}
}

// A handler schedules with timer.After; a Runner per adapter delivers what
// is due into the conversation's scope, which the consumer handles like
// any event. In a deployment the store is timer/redis and the Runner's
// Run loop polls; here one RunOnce delivers the alarm that is already due.
func Example() {
	store := new(timer.Memory)
	app := timer.Middleware(store)(consumer.New(func() *Alarm { return new(Alarm) },
		consumer.OnMessage((*Alarm).Message), consumer.On((*Alarm).Ring)))
	m, _ := scope.NewManager(app, printer{}, scope.Config{})
	ctx := context.Background()
	_ = m.Deliver(ctx, "ada", consumertest.Message{Text: "tea"}, func() *scope.Scope {
		return &scope.Scope{Type: "chat", Adapter: "chat", Key: "ada"}
	})
	_ = m.Shutdown(ctx) // the conversation ends; the timer stays

	m, _ = scope.NewManager(app, printer{}, scope.Config{}) // as after a restart
	runner := timer.NewRunner(store, "chat", timer.ManagerDeliverer(m))
	_, _ = runner.RunOnce(ctx)
	_ = m.Shutdown(ctx)
	// Output:
	// ada alarm set
	// ada ring: tea
}
