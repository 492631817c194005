package dialog_test

import (
	"context"
	"os"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/dialog"
)

// A dialog is a list of named steps; each asks on arrival and sends the
// answer on to the next step. dialog.App makes it a chat consumer for
// every protocol; here it runs on the console, answered by number.
func Example() {
	greet := dialog.New("greet",
		dialog.Step{Name: "name",
			Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Say(ctx, "Your name?") },
			Answer: func(_ context.Context, t *dialog.Turn, text string) (dialog.Next, error) {
				t.Set("name", text)
				return dialog.Goto("mood"), nil
			}},
		dialog.Step{Name: "mood",
			Prompt: func(ctx context.Context, t *dialog.Turn) error { return t.Ask(ctx, "How are you?", "fine", "tired") },
			Answer: func(ctx context.Context, t *dialog.Turn, mood string) (dialog.Next, error) {
				return dialog.Done(), t.Say(ctx, t.Get("name")+" is "+mood+".")
			}},
	)
	in := strings.NewReader("hello\nAda\n2\n")
	_ = adapters.NewHost(console.New(in, os.Stdout, console.Config{})).Run(context.Background(), dialog.App(greet))
	// Output:
	// [console] Your name?
	// [console] How are you?
	// 1. fine
	// 2. tired
	// [console] Ada is tired.
}
