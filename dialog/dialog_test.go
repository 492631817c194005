package dialog_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/dialog"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// order is a coffee order: a size, an address in a nested dialog, and a
// confirmation. The address step times out after a minute.
func order() *dialog.Dialog {
	address := dialog.New("address",
		dialog.Step{Name: "street",
			Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Say(ctx, "Street?") },
			Answer: func(_ context.Context, t *dialog.Turn, text string) (dialog.Next, error) {
				t.Set("street", text)
				return dialog.Goto("floor"), nil
			}},
		dialog.Step{Name: "floor",
			Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Ask(ctx, "Floor?", "ground", "first") },
			Answer: func(_ context.Context, t *dialog.Turn, text string) (dialog.Next, error) {
				t.Set("floor", text)
				return dialog.Done(), nil
			}},
	)
	return dialog.New("order",
		dialog.Step{Name: "size",
			Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Ask(ctx, "Which size?", "S", "M", "L") },
			Answer: func(ctx context.Context, t *dialog.Turn, text string) (dialog.Next, error) {
				switch text {
				case "S", "M", "L":
					t.Set("size", text)
					return dialog.Goto("where"), nil
				}
				return dialog.Repeat(), t.Say(ctx, "Pick one of the sizes.")
			}},
		dialog.Step{Name: "where", Sub: address, Then: "confirm"},
		dialog.Step{Name: "confirm", Timeout: time.Minute,
			Prompt: func(ctx context.Context, t *dialog.Turn) error {
				return t.Ask(ctx, "A "+t.Get("size")+" to "+t.Get("street")+", "+t.Get("floor")+" floor?", "yes", "no")
			},
			Answer: func(ctx context.Context, t *dialog.Turn, text string) (dialog.Next, error) {
				if text == "yes" {
					return dialog.Done(), t.Say(ctx, "Ordered.")
				}
				return dialog.Goto("size"), nil
			}},
	)
}

type chat struct {
	*consumertest.Chat
	t *testing.T
}

func newChat(t *testing.T, app scope.Application) chat {
	return chat{consumertest.NewChat(t, app), t}
}

// says sends text and checks the bot's answers, in order.
func (c chat) says(text string, want ...string) {
	c.t.Helper()
	c.Say(text)
	for _, w := range want {
		if got := c.ReceiveSay(); got != w {
			c.t.Fatalf("after %q the bot said %q; want %q", text, got, w)
		}
	}
	c.ReceiveNothing()
}

const sizes = "Which size?\n1. S\n2. M\n3. L"

func TestOrderToTheEnd(t *testing.T) {
	c := newChat(t, dialog.App(order()))
	c.says("/start", sizes)
	c.says("XL", "Pick one of the sizes.", sizes)
	c.says("2", "Street?")
	c.says("Main St 1", "Floor?\n1. ground\n2. first")
	c.says("First", "A M to Main St 1, first floor?\n1. yes\n2. no")
	c.says("yes", "Ordered.")
	c.says("again", sizes) // a new order
}

func TestBackAndCancel(t *testing.T) {
	c := newChat(t, dialog.App(order()))
	c.says("hi", sizes)
	c.says("/back", sizes) // nothing before the first step: asked again
	c.says("L", "Street?")
	c.says("Elm", "Floor?\n1. ground\n2. first")
	c.says("/back", "Street?")
	c.says("/cancel", "Cancelled.")
	c.says("/cancel") // in no dialog: nothing to say
	c.says("hi", sizes)
}

// TestPositionOutlivesTheScope: the conversation ends midway (idle) and
// picks up at the same step, with its answers.
func TestPositionOutlivesTheScope(t *testing.T) {
	app := session.Middleware(memory.New())(dialog.App(order()))
	c := newChat(t, app)
	c.says("hi", sizes)
	c.says("S", "Street?")
	c.End(scope.ReasonIdle)
	again := newChat(t, app)
	again.says("Oak", "Floor?\n1. ground\n2. first")
	again.says("1", "A S to Oak, ground floor?\n1. yes\n2. no")
}

// TestTimeoutOnTheNextMessage: without a timer store, a step's timeout
// shows when the next message comes too late.
func TestTimeoutOnTheNextMessage(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := newChat(t, dialog.App(order(), dialog.WithClock(clock), dialog.WithTexts("Cancelled.", "Too slow; start again.")))
	c.says("hi", sizes)
	c.says("M", "Street?")
	c.says("Oak", "Floor?\n1. ground\n2. first")
	c.says("1", "A M to Oak, ground floor?\n1. yes\n2. no")
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	c.says("yes", "Too slow; start again.")
}

func TestNewPanicsOnWiringMistakes(t *testing.T) {
	for name, f := range map[string]func(){
		"no steps":  func() { dialog.New("d") },
		"no name":   func() { dialog.New("d", dialog.Step{}) },
		"twice":     func() { dialog.New("d", dialog.Step{Name: "a"}, dialog.Step{Name: "a"}) },
		"bad then":  func() { dialog.New("d", dialog.Step{Name: "a", Then: "b"}) },
		"bad timer": func() { dialog.New("d", dialog.Step{Name: "a", OnTimeout: "b"}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "dialog.New") {
					t.Errorf("%s: recovered %v", name, r)
				}
			}()
			f()
		}()
	}
}
