package console

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/lines"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

const (
	// Protocol is the scope type of console conversations.
	Protocol = "console"
	// DefaultConversation takes the lines that name no conversation.
	DefaultConversation = "console"
)

// Config configures an Adapter. The zero value is usable.
type Config struct {
	// Name is the adapter's name. Default: "console" (Factory: the section's).
	Name string `yaml:"-"`
	// MaxLine bounds an input line in bytes; a longer line is skipped with
	// an error in the log. Default: 4096.
	MaxLine int `yaml:"max_line"`
}

// Adapter is the console adapter; its scopes end with "console.disconnect".
type Adapter struct {
	cfg   Config
	in    io.Reader
	outMu sync.Mutex // serialises lines written to out
	out   io.Writer
}

var _ adapters.Adapter = (*Adapter)(nil)
var _ adapters.Pusher = (*Adapter)(nil)

// New returns an adapter that reads messages from in and writes to out.
func New(in io.Reader, out io.Writer, cfg Config) *Adapter {
	cfg.Name = cmp.Or(cfg.Name, Protocol)
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 4096
	}
	return &Adapter{cfg: cfg, in: in, out: out}
}

// Factory builds the adapter from its config section, on Setup's Stdin/Stdout.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	cfg := Config{Name: s.Name}
	if err := s.Decode(&cfg); err != nil {
		return nil, err
	}
	return New(s.Stdin, s.Stdout, cfg), nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.cfg.Name }

// Serve implements adapters.Adapter with lines.Serve: at the end of
// input it returns adapters.ErrStopped, a clean stop.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	return lines.Serve(ctx, in, a.in, a.cfg.MaxLine, func(ctx context.Context, line string) error {
		return a.deliver(ctx, in, line)
	})
}

// deliver hands a line to its conversation: "@name text" goes to name.
func (a *Adapter) deliver(ctx context.Context, in *adapters.Intake, line string) error {
	conv, text := DefaultConversation, line
	if name, t, ok := strings.Cut(line, " "); ok && len(name) > 1 && name[0] == '@' {
		conv, text = name[1:], strings.TrimSpace(t)
	}
	return in.Deliver(ctx, conv, Message{Conversation: conv, User: conv, Text: text, Raw: line}, func() *scope.Scope {
		return &scope.Scope{Type: Protocol, Adapter: a.Name(),
			User: scope.User{ID: conv, Name: conv, Username: conv}, Chat: scope.Chat{ID: conv, Type: "private"}}
	}, nil)
}

// Send implements adapters.Adapter: console.send and chat.say.
func (a *Adapter) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	return a.write(s.Chat.ID, ev)
}

// Push implements adapters.Pusher: console.send and chat.say, to
// DefaultConversation if they name none.
func (a *Adapter) Push(_ context.Context, ev event.Event) error {
	return a.write(DefaultConversation, ev)
}

func (a *Adapter) write(conv string, ev event.Event) error {
	send, err := event.Decode[Send](ev)
	if say, ok, serr := event.AsSay(ev); ok {
		send, err = Send{Conversation: say.To, Text: say.Text}, serr
	}
	if err != nil {
		return fmt.Errorf("console: cannot send %q: %w", ev.Type(), err)
	}
	a.outMu.Lock()
	defer a.outMu.Unlock()
	_, err = fmt.Fprintf(a.out, "[%s] %s\n", cmp.Or(send.Conversation, conv), send.Text)
	return err
}
