package adapters_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// lines is a whole adapter: each "name: text" line of in is a message in
// the conversation with name, and what a bot says there is written to out
// as "name< text".
type lines struct {
	in  io.Reader
	mu  sync.Mutex // guards out: conversations run in parallel
	out io.Writer
}

// line is the adapter's inbound event. It meets the chat message
// contract, so every chat bot serves it unchanged.
type line struct{ Text string }

func (line) Type() string                        { return "lines.message" }
func (l line) ChatText() string                  { return l.Text }
func (l line) ChatReply(text string) event.Event { return event.Say{Text: text} }

func (a *lines) Name() string { return "lines" }

// Serve files each line under its conversation. The Host does the rest:
// one scope per conversation, in order, ended when idle or at shutdown.
func (a *lines) Serve(ctx context.Context, in *adapters.Intake) error {
	in.Ready()
	sc := bufio.NewScanner(a.in)
	for sc.Scan() {
		who, text, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			in.Logger().Warn("lines: a line without a speaker", "line", sc.Text())
			continue
		}
		newScope := func() *scope.Scope {
			return &scope.Scope{Type: "lines", Adapter: a.Name(), User: scope.User{ID: who}}
		}
		if err := in.Deliver(ctx, who, line{text}, newScope, nil); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// The input ended: the Host lets every conversation handle what it
	// was given, ends it, and Run returns ErrStopped: a clean stop.
	return adapters.ErrStopped
}

// Send says what a bot said, in the scope's conversation.
func (a *lines) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	say, ok := ev.(event.Say)
	if !ok {
		return fmt.Errorf("lines: cannot send %s: %w", ev.Type(), adapters.ErrUnsupported)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := fmt.Fprintf(a.out, "%s< %s\n", s.Key, say.Text)
	return err
}

// counter is a chat bot that numbers the messages of each conversation.
type counter struct {
	consumer.Chat
	n int
}

func (c *counter) message(ctx context.Context, m consumer.ChatMessage) error {
	c.n++
	return c.Reply(ctx, fmt.Sprintf("#%d %s", c.n, m.ChatText()))
}

// An adapter is a name, Serve and Send; a Host runs it. Here two
// conversations run in parallel, each in order, with its own instance of
// the bot.
func Example_writeAnAdapter() {
	in := strings.NewReader("ann: hi\nbob: hello\nann: again\n")
	bot := consumer.New(func() *counter { return new(counter) },
		consumer.OnMessage((*counter).message))

	h := adapters.NewHost(&lines{in: in, out: os.Stdout})
	err := h.Run(context.Background(), bot)
	fmt.Println("stopped:", err)
	// Unordered output:
	// ann< #1 hi
	// bob< #1 hello
	// ann< #2 again
	// stopped: adapters: adapter stopped
}
