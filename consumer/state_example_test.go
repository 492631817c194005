package consumer_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

// Visits is what each conversation remembers.
type Visits struct {
	Count int    `json:"count"`
	Last  string `json:"last"`
}

// Remembering is a chat consumer whose state outlives its scope.
type Remembering struct {
	consumer.Chat
	consumer.Stateful[Visits]
}

func (r *Remembering) Message(ctx context.Context, m event.ChatMessage) error {
	v := r.State()
	prev := v.Last
	v.Count++
	v.Last = m.ChatText()
	return r.Reply(ctx, fmt.Sprintf("#%d (last time: %q)", v.Count, prev))
}

// A consumer declares its state by embedding consumer.Stateful; the state
// is loaded before each event and saved after a handler that changed it,
// in the store that session.Middleware names (session/redis keeps it across
// restarts and processes). Here the console conversation ends with its
// input, and the next run of the adapter picks up where it left off.
func ExampleStateful() {
	store := memory.New()
	app := session.Middleware(store)(consumer.New(func() *Remembering { return new(Remembering) },
		consumer.OnMessage((*Remembering).Message)))

	for _, input := range []string{"hi\nhello\n", "back again\n"} {
		host := adapters.NewHost(console.New(strings.NewReader(input), os.Stdout, console.Config{}))
		_ = host.Run(context.Background(), app)
	}
	// Output:
	// [console] #1 (last time: "")
	// [console] #2 (last time: "hi")
	// [console] #3 (last time: "hello")
}
