package order

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/dialog"
	"github.com/switchboard-bots/switchboard/dialog/buttons"
	"github.com/switchboard-bots/switchboard/timer"
)

// Ready is the reminder that the order is ready.
type Ready struct {
	What string `msgpack:"what"`
}

// Type implements event.Event.
func (Ready) Type() string { return "order.ready" }

// Config are the bot's settings.
type Config struct {
	// ReadyIn is when the reminder that the order is ready comes, when the
	// scope has a timer store. Default: 5 minutes.
	ReadyIn time.Duration
	// ConfirmTimeout is how long the confirmation waits. Default: 10
	// minutes.
	ConfirmTimeout time.Duration
	// Options are more options of the dialog (a clock for tests).
	Options []dialog.Option
}

// Dialog returns the order dialog.
func Dialog(cfg Config) *dialog.Dialog {
	if cfg.ReadyIn <= 0 {
		cfg.ReadyIn = 5 * time.Minute
	}
	if cfg.ConfirmTimeout <= 0 {
		cfg.ConfirmTimeout = 10 * time.Minute
	}
	details := dialog.New("details",
		dialog.Step{Name: "name",
			Prompt: func(ctx context.Context, t *dialog.Turn) error {
				if last := t.Get("name"); last != "" {
					return t.Ask(ctx, "Name for the order? (or type another)", last)
				}
				return t.Say(ctx, "Name for the order?")
			},
			Answer: func(ctx context.Context, t *dialog.Turn, name string) (dialog.Next, error) {
				if name == "" {
					return dialog.Repeat(), nil
				}
				t.Set("name", name)
				return dialog.Done(), nil
			}},
	)
	return dialog.New("order",
		choice("drink", "Which drink?", []string{"latte", "tea", "espresso"}, "size"),
		choice("size", "Which size?", []string{"S", "M", "L"}, "details"),
		dialog.Step{Name: "details", Sub: details, Then: "confirm"},
		dialog.Step{Name: "confirm", Timeout: cfg.ConfirmTimeout,
			Prompt: func(ctx context.Context, t *dialog.Turn) error {
				return t.Ask(ctx, summary(t)+"?", "yes", "no")
			},
			Answer: func(ctx context.Context, t *dialog.Turn, text string) (dialog.Next, error) {
				switch text {
				case "no":
					return dialog.Goto("drink"), nil
				case "yes":
				default:
					return dialog.Repeat(), nil
				}
				what := summary(t)
				t.Set("last", what)
				err := timer.After(ctx, t.Scope(), "ready", cfg.ReadyIn, Ready{What: what})
				switch {
				case errors.Is(err, timer.ErrNoTimers):
					return dialog.Done(), t.Say(ctx, "Ordered: "+what+".")
				case err != nil:
					return dialog.Stay(), err
				}
				return dialog.Done(), t.Say(ctx, "Ordered: "+what+". I will tell you when it is ready.")
			}},
	)
}

// choice is a step that asks question with choices and goes on to next.
func choice(name, question string, choices []string, next string) dialog.Step {
	return dialog.Step{Name: name,
		Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Ask(ctx, question, choices...) },
		Answer: func(ctx context.Context, t *dialog.Turn, text string) (dialog.Next, error) {
			for _, c := range choices {
				if c == text {
					t.Set(name, text)
					return dialog.Goto(next), nil
				}
			}
			return dialog.Repeat(), nil
		}}
}

func summary(t *dialog.Turn) string {
	return t.Get("size") + " " + t.Get("drink") + " for " + t.Get("name")
}

// New returns the order bot as an application.
func New(cfg Config) *consumer.App[*dialog.Bot] {
	opts := append(buttons.Options(),
		dialog.WithHandlers(consumer.On(ready)),
		dialog.WithIdle(idle))
	return dialog.App(Dialog(cfg), append(opts, cfg.Options...)...)
}

// idle answers "/last" outside the order, and starts one otherwise.
func idle(ctx context.Context, t *dialog.Turn, text string) error {
	if text == "/last" {
		if last := t.Get("last"); last != "" {
			return t.Say(ctx, "Your last order: "+last+".")
		}
		return t.Say(ctx, "No order yet.")
	}
	return t.Start(ctx)
}

func ready(b *dialog.Bot, ctx context.Context, r Ready) error {
	return b.Say(ctx, "Your "+r.What+" is ready.")
}
