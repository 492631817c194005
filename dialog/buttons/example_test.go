package buttons_test

import (
	"context"
	"fmt"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/dialog"
	"github.com/switchboard-bots/switchboard/dialog/buttons"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// telegramPrinter stands for the Telegram adapter: it prints what the bot
// sends and keeps the last keyboard's callback data.
type telegramPrinter struct{ data map[string]string }

func (p telegramPrinter) Send(_ context.Context, _ *scope.Scope, ev event.Event) error {
	switch ev := ev.(type) {
	case telegram.Send:
		fmt.Print(ev.Text)
		for _, row := range ev.Keyboard {
			for _, b := range row {
				fmt.Printf(" [%s]", b.Text)
				p.data[b.Text] = b.Data
			}
		}
		fmt.Println()
	case telegram.AnswerCallback:
		fmt.Println("(button press answered)")
	case event.Say:
		fmt.Println(ev.Text)
	}
	return nil
}

func (telegramPrinter) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return consumertest.Disconnect{Protocol: s.Type, Reason: r}
}

// On Telegram, Ask shows an inline keyboard, and a press of its button
// answers the question as the choice would.
func Example() {
	size := dialog.New("size", dialog.Step{Name: "size",
		Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Ask(ctx, "Which size?", "S", "M", "L") },
		Answer: func(ctx context.Context, t *dialog.Turn, size string) (dialog.Next, error) {
			return dialog.Done(), t.Say(ctx, "Size "+size+".")
		}})
	p := telegramPrinter{data: map[string]string{}}
	m, _ := scope.NewManager(dialog.App(size, buttons.Options()...), p, scope.Config{})
	defer m.Close()
	ctx := context.Background()
	newScope := func() *scope.Scope { return &scope.Scope{Type: telegram.Protocol, Adapter: "telegram", Key: "42"} }
	deliver := func(ev event.Event) {
		handled := make(chan error, 1)
		_ = m.DeliverAck(ctx, "42", ev, newScope, func(err error) { handled <- err })
		<-handled
	}
	deliver(consumertest.Message{Text: "/start"})
	deliver(telegram.CallbackQuery{ID: "q1", Data: p.data["M"]})
	// Output:
	// Which size? [S] [M] [L]
	// Size M.
	// (button press answered)
}

// webPrinter stands for the WebSocket adapter: it prints the question the
// chat page shows as buttons, and keeps the tokens its clicks send back.
type webPrinter struct{ tokens map[string]string }

func (p webPrinter) Send(_ context.Context, _ *scope.Scope, ev event.Event) error {
	switch ev := ev.(type) {
	case event.Ask:
		fmt.Print(ev.Text)
		for _, c := range ev.Choices {
			fmt.Printf(" <button>%s</button>", c.Text)
			p.tokens[c.Text] = c.Token
		}
		fmt.Println()
	case event.Say:
		fmt.Println(ev.Text)
	}
	return nil
}

func (webPrinter) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return consumertest.Disconnect{Protocol: s.Type, Reason: r}
}

// On the web chat page, Ask sends an event.Ask, which the page shows as
// buttons; the WebSocket adapter delivers a click as an event.Answer,
// the one event every platform's press reaches the dialog as.
func Example_webPage() {
	size := dialog.New("size", dialog.Step{Name: "size",
		Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Ask(ctx, "Which size?", "S", "M", "L") },
		Answer: func(ctx context.Context, t *dialog.Turn, size string) (dialog.Next, error) {
			return dialog.Done(), t.Say(ctx, "Size "+size+".")
		}})
	p := webPrinter{tokens: map[string]string{}}
	m, _ := scope.NewManager(dialog.App(size, buttons.Options()...), p, scope.Config{})
	defer m.Close()
	ctx := context.Background()
	newScope := func() *scope.Scope { return &scope.Scope{Type: "websocket", Adapter: "websocket", Key: "w1"} }
	deliver := func(ev event.Event) {
		handled := make(chan error, 1)
		_ = m.DeliverAck(ctx, "w1", ev, newScope, func(err error) { handled <- err })
		<-handled
	}
	deliver(consumertest.Message{Text: "hi"})
	deliver(event.Answer{Token: p.tokens["L"], Text: "L"})
	deliver(event.Answer{Token: p.tokens["S"], Text: "S"}) // the question was answered
	// Output:
	// Which size? <button>S</button> <button>M</button> <button>L</button>
	// Size L.
	// That question was already answered.
}
