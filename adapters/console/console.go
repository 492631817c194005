package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Protocol is the scope type of console conversations.
const Protocol = "console"

// DefaultConversation takes the lines that name no conversation.
const DefaultConversation = "console"

// Config configures an Adapter. The zero value is usable.
type Config struct {
	// Name is the adapter's name. Default: "console".
	Name string `yaml:"name"`
	// MaxLine bounds an input line in bytes; a longer line is skipped with
	// an error in the log. Default: 4096.
	MaxLine int `yaml:"max_line"`
	// Scopes bounds and times the conversations.
	Scopes scope.Config `yaml:"scopes"`
}

// Adapter is the console adapter.
type Adapter struct {
	cfg Config
	in  io.Reader
	log *slog.Logger

	outMu sync.Mutex // serialises lines written to out
	out   io.Writer

	mu       sync.Mutex
	m        *scope.Manager // set by Run
	stopping chan struct{}  // closed by Shutdown
	stopOnce sync.Once
}

var (
	_ adapters.Runner = (*Adapter)(nil)
	_ adapters.Pusher  = (*Adapter)(nil)
	_ scope.Protocol   = (*Adapter)(nil)
)

// New returns an adapter that reads messages from in and writes replies to
// out. A nil logger means slog.Default().
func New(in io.Reader, out io.Writer, cfg Config, log *slog.Logger) *Adapter {
	if cfg.Name == "" {
		cfg.Name = "console"
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 4096
	}
	if log == nil {
		log = slog.Default()
	}
	return &Adapter{cfg: cfg, in: in, out: out, log: log, stopping: make(chan struct{})}
}

// Name implements adapters.Runner.
func (a *Adapter) Name() string { return a.cfg.Name }

// Run reads lines until the input ends, Shutdown is called, or ctx ends.
// At the end of input it shuts down like Shutdown and returns ErrStopped.
// A Read blocked on the input is left to return by itself (close the input
// to stop it); nothing read after Run returns is delivered.
func (a *Adapter) Run(ctx context.Context, app scope.Application) error {
	m, err := scope.NewManager(app, a, a.cfg.Scopes, scope.WithLogger(a.log))
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	a.mu.Lock()
	a.m = m
	a.mu.Unlock()

	lines := make(chan string)
	readErr := make(chan error, 1)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	go a.read(readCtx, lines, readErr)

	for {
		select {
		case line := <-lines:
			if err := a.deliver(ctx, m, line); err != nil {
				if errors.Is(err, scope.ErrClosed) {
					continue // Shutdown began; the loop ends below
				}
				if ctx.Err() != nil {
					_ = m.Close()
					return ctx.Err()
				}
				a.log.Error("console: message not delivered", "adapter", a.cfg.Name, "err", err)
			}
		case err := <-readErr:
			if err != nil {
				a.log.Error("console: input failed", "adapter", a.cfg.Name, "err", err)
			}
			if err := a.Shutdown(ctx); err != nil {
				return err
			}
			return adapters.ErrStopped
		case <-a.stopping:
			return adapters.ErrStopped
		case <-ctx.Done():
			_ = m.Close()
			return ctx.Err()
		}
	}
}

// read sends each line of input to lines, skipping and logging lines that
// are too long or not UTF-8, and reports the end of input on done.
func (a *Adapter) read(ctx context.Context, lines chan<- string, done chan<- error) {
	r := bufio.NewReaderSize(a.in, 512)
	var line []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > a.cfg.MaxLine+1 {
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil || (err == io.EOF && (len(line) > 0 || tooLong)) {
			text := strings.TrimRight(string(line), "\r\n")
			switch {
			case tooLong:
				a.log.Error("console: line too long; skipped", "adapter", a.cfg.Name, "max_line", a.cfg.MaxLine)
			case !utf8.ValidString(text):
				a.log.Error("console: line is not UTF-8; skipped", "adapter", a.cfg.Name)
			case strings.TrimSpace(text) != "":
				select {
				case lines <- text:
				case <-ctx.Done():
					return
				}
			}
			line, tooLong = line[:0], false
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			done <- err
			return
		}
	}
}

func (a *Adapter) deliver(ctx context.Context, m *scope.Manager, line string) error {
	conv, text := DefaultConversation, line
	if rest, ok := strings.CutPrefix(line, "@"); ok {
		if name, t, ok := strings.Cut(rest, " "); ok && name != "" {
			conv, text = name, strings.TrimSpace(t)
		}
	}
	ev := Message{Conversation: conv, User: conv, Text: text, Raw: line}
	return m.Deliver(ctx, conv, ev, func() *scope.Scope {
		return &scope.Scope{
			Type:    Protocol,
			Adapter: a.cfg.Name,
			User:    scope.User{ID: conv, Name: conv, Username: conv},
			Chat:    scope.Chat{ID: conv, Type: "private"},
		}
	})
}

// Shutdown implements adapters.Runner.
func (a *Adapter) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	m := a.m
	a.mu.Unlock()
	var err error
	if m != nil {
		err = m.Shutdown(ctx)
	}
	a.stopOnce.Do(func() { close(a.stopping) })
	return err
}

// Send implements scope.Protocol: it writes console.send events.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	send, err := event.Decode[Send](ev)
	if err != nil {
		return fmt.Errorf("console: cannot send %q: %w", ev.Type(), err)
	}
	if send.Conversation == "" {
		send.Conversation = s.Chat.ID
	}
	return a.write(send)
}

// Push implements adapters.Pusher: a console.send naming its conversation.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	send, err := event.Decode[Send](ev)
	if err != nil {
		return fmt.Errorf("console: cannot push %q: %w", ev.Type(), err)
	}
	if send.Conversation == "" {
		send.Conversation = DefaultConversation
	}
	return a.write(send)
}

func (a *Adapter) write(s Send) error {
	a.outMu.Lock()
	defer a.outMu.Unlock()
	if _, err := fmt.Fprintf(a.out, "[%s] %s\n", s.Conversation, s.Text); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}

// Disconnect implements scope.Protocol.
func (a *Adapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return Disconnect{Reason: r}
}
