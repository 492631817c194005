package timer_test

import (
	"context"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
	"github.com/switchboard-bots/switchboard/timer"
)

// Bell is the event of a timer whose handler rings at most once: Mark
// tells one scheduling from the next.
type Bell struct {
	What string `msgpack:"what"`
	Mark int    `msgpack:"mark"`
}

func (Bell) Type() string { return "bell.ring" }

// Rung is what a conversation remembers of its bells.
type Rung struct {
	Set  int `json:"set"`  // the mark of the last bell set
	Rung int `json:"rung"` // the mark of the last bell rung
}

// Belfry sets a bell on every message and rings each at most once.
type Belfry struct {
	consumer.Chat
	consumer.Stateful[Rung]
}

func (b *Belfry) Message(ctx context.Context, m event.ChatMessage) error {
	b.State().Set++
	if err := timer.After(ctx, b.Scope(), "bell", 0, Bell{What: m.ChatText(), Mark: b.State().Set}); err != nil {
		return err
	}
	return b.Reply(ctx, "bell set")
}

func (b *Belfry) Ring(ctx context.Context, r Bell) error {
	if b.State().Rung >= r.Mark {
		return nil // rung already: this is the timer come again
	}
	b.State().Rung = r.Mark
	// Held until the state above is saved.
	return b.Say(ctx, "ding: "+r.What)
}

// A timer comes twice when its process dies after the handler's sends and
// before the settle. A handler that would rather lose a send than repeat
// it records the timer's mark in its state, which is saved before its
// sends go out: here the bell's event reaches the conversation twice, as
// from a runner that died before settling it and from the one that
// claimed it after the lease, and rings once.
func Example_atMostOnce() {
	timers := new(timer.Memory)
	app := session.Middleware(memory.New())(timer.Middleware(timers)(consumer.New(func() *Belfry { return new(Belfry) },
		consumer.OnMessage((*Belfry).Message), consumer.On((*Belfry).Ring))))
	m, _ := scope.NewManager(app, printer{}, scope.Config{})
	ctx := context.Background()
	newScope := func() *scope.Scope { return &scope.Scope{Type: "chat", Adapter: "chat", Key: "ada"} }
	handled := make(chan error, 1)
	ack := func(err error) { handled <- err }
	_ = m.DeliverAck(ctx, "ada", consumertest.Message{Text: "tea"}, newScope, ack)
	<-handled

	claims, _ := timers.Claim(ctx, "chat", time.Now(), 10, time.Minute)
	for range 2 {
		_ = m.DeliverAck(ctx, "ada", claims[0].Event, newScope, ack)
		<-handled
	}
	_ = m.Shutdown(ctx)
	// Output:
	// ada bell set
	// ada ding: tea
}
