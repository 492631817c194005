package timer_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/timer"
	"github.com/switchboard-bots/switchboard/timer/timertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	timertest.Run(t, func(*testing.T) timer.Store { return new(timer.Memory) }, timertest.Features{})
}

// Due is the reminder's event.
type Due struct {
	Text string `msgpack:"text"`
}

func (Due) Type() string { return "reminder.due" }

// reminder schedules "remind <text>" a minute on, "cancel" cancels it, and
// says the text when it is due.
type reminder struct{ consumer.Chat }

func (r *reminder) Message(ctx context.Context, m event.ChatMessage) error {
	if m.ChatText() == "cancel" {
		ok, err := timer.Cancel(ctx, r.Scope(), "remind")
		if err != nil {
			return err
		}
		if ok {
			return r.Reply(ctx, "cancelled")
		}
		return r.Reply(ctx, "nothing to cancel")
	}
	if err := timer.After(ctx, r.Scope(), "remind", time.Minute, Due{Text: m.ChatText()}); err != nil {
		return err
	}
	return r.Reply(ctx, "in a minute")
}

func (r *reminder) Due(ctx context.Context, d Due) error { return r.Say(ctx, "reminder: "+d.Text) }

type chat struct {
	out   chan event.Event
	ended chan scope.Reason
}

func (c chat) Send(_ context.Context, _ *scope.Scope, ev event.Event) error { c.out <- ev; return nil }
func (chat) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return consumertest.Disconnect{Protocol: s.Type, Reason: r}
}
func (c chat) Ended(_ *scope.Scope, r scope.Reason, _ error) { c.ended <- r }

func next(t *testing.T, out chan event.Event) event.Event {
	t.Helper()
	select {
	case ev := <-out:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("nothing sent")
		return nil
	}
}

// TestReminderAfterIdleEnd: the timer fires after its conversation ended
// idle: the runner starts the scope again from the timer's facts.
func TestReminderAfterIdleEnd(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := new(timer.Memory)
	app := timer.Middleware(st, timer.WithClock(clock))(consumer.New(func() *reminder { return new(reminder) },
		consumer.OnMessage((*reminder).Message), consumer.On((*reminder).Due)))
	c := chat{out: make(chan event.Event, 10), ended: make(chan scope.Reason, 10)}
	m, err := scope.NewManager(app, c, scope.Config{IdleTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	newScope := func() *scope.Scope {
		return &scope.Scope{Type: consumertest.ChatProtocol, Adapter: "chat", Key: "alice", Chat: scope.Chat{ID: "42"}}
	}
	ctx := context.Background()
	if err := m.Deliver(ctx, "alice", consumertest.Message{Text: "tea"}, newScope); err != nil {
		t.Fatal(err)
	}
	next(t, c.out) // "in a minute"
	m.End("alice", consumertest.Disconnect{Protocol: consumertest.ChatProtocol, Reason: scope.ReasonIdle})
	<-c.ended

	r := timer.NewRunner(st, "chat", timer.ManagerDeliverer(m), timer.WithRunnerClock(clock))
	if n, err := r.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("before it was due: %d claimed, %v", n, err)
	}
	clock.Advance(time.Minute)
	if n, err := r.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("when due: %d claimed, %v", n, err)
	}
	if got := next(t, c.out); got != (event.Say{Text: "reminder: tea"}) {
		t.Fatalf("sent %+v", got)
	}
	if st.Len() != 0 {
		t.Fatalf("%d timers left after delivery", st.Len())
	}
	clock.Advance(time.Hour)
	if n, _ := r.RunOnce(ctx); n != 0 {
		t.Fatalf("fired again: %d", n)
	}
}

// TestRunnerRunsOnItsClock: Run polls on its clock and delivers what is
// due, and stops when its context ends.
func TestRunnerRunsOnItsClock(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := new(timer.Memory)
	got := make(chan string, 1)
	d := timer.DeliverFunc(func(_ context.Context, key string, ev event.Event, _ func() *scope.Scope, ack scope.Ack) error {
		got <- key + ":" + ev.Type()
		ack(nil)
		return nil
	})
	_ = st.Schedule(context.Background(), timer.Timer{Adapter: "chat", Key: "bob", Name: "n", At: clock.Now().Add(time.Second), Event: Due{}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- timer.NewRunner(st, "chat", d, timer.WithRunnerClock(clock), timer.WithPollInterval(time.Second)).Run(ctx)
	}()
	clock.NextWait(t) // found nothing due; waits a poll
	clock.Advance(time.Second)
	if k := <-got; k != "bob:reminder.due" {
		t.Fatalf("delivered %s", k)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run = %v", err)
	}
}

func TestNoStore(t *testing.T) {
	if err := timer.After(context.Background(), &scope.Scope{}, "x", time.Second, Due{}); err != timer.ErrNoTimers {
		t.Fatalf("After without middleware = %v", err)
	}
}

// TestTimerOfAnEndedConnectionIsDropped: a conversation that cannot start
// again (scope.ErrEnded) takes its timer with it, rather than having it
// claimed again every lease.
func TestTimerOfAnEndedConnectionIsDropped(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := new(timer.Memory)
	_ = st.Schedule(context.Background(), timer.Timer{Adapter: "web", Key: "gone", Name: "n", At: clock.Now(), Event: Due{}})
	d := timer.DeliverFunc(func(context.Context, string, event.Event, func() *scope.Scope, scope.Ack) error {
		return scope.ErrEnded
	})
	r := timer.NewRunner(st, "web", d, timer.WithRunnerClock(clock), timer.WithLogger(slog.New(slog.DiscardHandler)))
	if n, err := r.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if st.Len() != 0 {
		t.Fatalf("%d timers left", st.Len())
	}
}
