package console

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/adapters"
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
	// Name is the adapter's name. Default: "console"; Factory uses the
	// config section's name.
	Name string `yaml:"-"`
	// MaxLine bounds an input line in bytes; a longer line is skipped with
	// an error in the log. Default: 4096.
	MaxLine int `yaml:"max_line"`
}

// Adapter is the console adapter, run by an adapters.Host. Its scopes end
// with "console.disconnect", the Host's adapters.Disconnect.
type Adapter struct {
	cfg   Config
	in    io.Reader
	outMu sync.Mutex // serialises lines written to out
	out   io.Writer
}

var _ interface {
	adapters.Adapter
	adapters.Pusher
} = (*Adapter)(nil)

// New returns an adapter that reads messages from in and writes to out.
func New(in io.Reader, out io.Writer, cfg Config) *Adapter {
	cfg.Name = cmp.Or(cfg.Name, Protocol)
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 4096
	}
	return &Adapter{cfg: cfg, in: in, out: out}
}

// Factory builds the adapter from its config section, on Setup's Stdin and
// Stdout.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	var cfg Config
	if err := s.Decode(&cfg); err != nil {
		return nil, err
	}
	cfg.Name = s.Name
	return New(s.Stdin, s.Stdout, cfg), nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.cfg.Name }

// Serve implements adapters.Adapter: it delivers input lines until ctx
// ends. At the end of input it returns adapters.ErrStopped, so that the
// Host ends the conversations and Run reports a clean stop. A blocked Read
// returns by itself (close the input); what it reads is not delivered.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	done := make(chan error, 1)
	go func() { done <- a.read(ctx, in) }()
	in.Ready()
	select {
	case err := <-done:
		if err != nil {
			in.Logger().Error("console: input failed", "adapter", a.Name(), "err", err)
		}
		return adapters.ErrStopped
	case <-ctx.Done():
		return nil
	}
}

// read delivers each non-blank line of input, skipping and logging lines
// too long or not UTF-8, until the input or ctx ends.
func (a *Adapter) read(ctx context.Context, in *adapters.Intake) error {
	r := bufio.NewReaderSize(a.in, a.cfg.MaxLine+1)
	for long := false; ctx.Err() == nil; {
		line, more, err := r.ReadLine()
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		case long || more:
			if !long {
				in.Logger().Error("console: line too long; skipped", "adapter", a.Name(), "max_line", a.cfg.MaxLine)
			}
			long = more
		case !utf8.Valid(line):
			in.Logger().Error("console: line is not UTF-8; skipped", "adapter", a.Name())
		case len(bytes.TrimSpace(line)) > 0:
			if err := a.deliver(ctx, in, string(line)); err != nil && ctx.Err() == nil {
				in.Logger().Error("console: message not delivered", "adapter", a.Name(), "err", err)
			}
		}
	}
	return nil
}

// deliver hands a line to its conversation: "@name text" goes to name.
func (a *Adapter) deliver(ctx context.Context, in *adapters.Intake, line string) error {
	conv, text := DefaultConversation, line
	if name, t, ok := strings.Cut(strings.TrimPrefix(line, "@"), " "); ok && name != "" && line[0] == '@' {
		conv, text = name, strings.TrimSpace(t)
	}
	return in.Deliver(ctx, conv, Message{Conversation: conv, User: conv, Text: text, Raw: line}, func() *scope.Scope {
		return &scope.Scope{Type: Protocol, Adapter: a.Name(),
			User: scope.User{ID: conv, Name: conv, Username: conv}, Chat: scope.Chat{ID: conv, Type: "private"}}
	}, nil)
}

// Send implements adapters.Adapter: console.send, and chat.say in the
// scope's own conversation.
func (a *Adapter) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	return a.write(s.Chat.ID, ev)
}

// Push implements adapters.Pusher: a console.send naming its conversation
// (else the default one).
func (a *Adapter) Push(_ context.Context, ev event.Event) error {
	return a.write(DefaultConversation, ev)
}

// write writes ev, a console.send or a chat.say, to its conversation, or
// to conv when it names none.
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
	if _, err := fmt.Fprintf(a.out, "[%s] %s\n", cmp.Or(send.Conversation, conv), send.Text); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}
