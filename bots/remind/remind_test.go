package remind_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/bots/remind"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/timer"
)

func TestRemindSchedulesCancelsAndSays(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := new(timer.Memory)
	c := consumertest.NewChat(t, timer.Middleware(st, timer.WithClock(clock))(remind.New()))
	ctx := context.Background()

	c.Say("remind tea in 10m Tea is ready")
	if got := c.ReceiveReply().Text; got != "Reminder tea set, in 10m." {
		t.Fatalf("answer %q", got)
	}
	c.Say("remind walk at 2023-11-14T23:00:00Z Walk")
	c.ReceiveReply()
	if claims, _ := st.Claim(ctx, consumertest.ChatProtocol, clock.Now().Add(10*time.Minute-time.Millisecond), 10, time.Minute); len(claims) != 0 {
		t.Fatalf("due early: %+v", claims)
	}
	c.Say("cancel walk")
	if got := c.ReceiveReply().Text; got != "Cancelled walk." {
		t.Fatalf("answer %q", got)
	}
	claims, err := st.Claim(ctx, consumertest.ChatProtocol, clock.Now().Add(10*time.Minute), 10, time.Minute)
	if err != nil || len(claims) != 1 || claims[0].Key != "test" || claims[0].Name != "tea" {
		t.Fatalf("claimed %+v, %v; want tea alone", claims, err)
	}
	due, err := event.Decode[remind.Due](claims[0].Event)
	if err != nil || due != (remind.Due{Name: "tea", Text: "Tea is ready"}) {
		t.Fatalf("event %+v, %v", due, err)
	}
	c.Send(claims[0].Event)
	if got := c.ReceiveSay(); got != "reminder tea: Tea is ready" {
		t.Fatalf("said %q", got)
	}
	c.Say("cancel walk")
	if got := c.ReceiveReply().Text; got != "No reminder walk." {
		t.Fatalf("answer %q", got)
	}
	c.Say("remind x in soon y")
	if got := c.ReceiveReply().Text; got != `"soon" is not a duration such as 90s or 1h30m.` {
		t.Fatalf("answer %q", got)
	}
}

func TestRemindWithoutTimers(t *testing.T) {
	c := consumertest.NewChat(t, remind.New())
	c.Say("remind tea in 10m Tea")
	if got := c.ReceiveReply().Text; got != "Reminders are off here." {
		t.Fatalf("answer %q", got)
	}
	c.Say("hello")
	if got := c.ReceiveReply().Text; got != remind.Usage {
		t.Fatalf("answer %q", got)
	}
}
