package remind

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/timer"
)

// Due is a reminder come due.
type Due struct {
	Name string `msgpack:"name"`
	Text string `msgpack:"text"`
}

// Type implements event.Event.
func (Due) Type() string { return "remind.due" }

// Usage is what the bot answers to a message it does not understand.
const Usage = "Usage: remind NAME in DURATION TEXT | remind NAME at RFC3339-TIME TEXT | cancel NAME"

// Bot is the reminders bot's consumer.
type Bot struct{ consumer.Chat }

// Message schedules or cancels a reminder.
func (b *Bot) Message(ctx context.Context, m event.ChatMessage) error {
	f := strings.Fields(m.ChatText())
	switch {
	case len(f) == 2 && f[0] == "cancel":
		ok, err := timer.Cancel(ctx, b.Scope(), f[1])
		switch {
		case errors.Is(err, timer.ErrNoTimers):
			return b.Reply(ctx, "Reminders are off here.")
		case err != nil:
			return err
		case !ok:
			return b.Reply(ctx, "No reminder "+f[1]+".")
		}
		return b.Reply(ctx, "Cancelled "+f[1]+".")
	case len(f) >= 4 && f[0] == "remind":
		name, due := f[1], Due{Name: f[1], Text: strings.Join(f[4:], " ")}
		var err error
		switch f[2] {
		case "in":
			d, perr := time.ParseDuration(f[3])
			if perr != nil || d < 0 {
				return b.Reply(ctx, fmt.Sprintf("%q is not a duration such as 90s or 1h30m.", f[3]))
			}
			err = timer.After(ctx, b.Scope(), name, d, due)
		case "at":
			at, perr := time.Parse(time.RFC3339Nano, f[3])
			if perr != nil {
				return b.Reply(ctx, fmt.Sprintf("%q is not a time such as 2026-12-03T15:04:05Z.", f[3]))
			}
			err = timer.At(ctx, b.Scope(), name, at, due)
		default:
			return b.Reply(ctx, Usage)
		}
		switch {
		case errors.Is(err, timer.ErrNoTimers):
			return b.Reply(ctx, "Reminders are off here.")
		case err != nil:
			return err
		}
		return b.Reply(ctx, "Reminder "+name+" set, "+f[2]+" "+f[3]+".")
	}
	return b.Reply(ctx, Usage)
}

// Due says the reminder.
func (b *Bot) Due(ctx context.Context, d Due) error {
	return b.Say(ctx, "reminder "+d.Name+": "+d.Text)
}

// New returns the reminders bot as an application.
func New() *consumer.App[*Bot] {
	return consumer.New(func() *Bot { return new(Bot) },
		consumer.OnMessage((*Bot).Message), consumer.On((*Bot).Due))
}
