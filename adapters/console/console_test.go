package console_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// platform is a terminal: a pipe to type into and one to read replies from.
//
// It says chat.say and pushes console.send naming a conversation. A
// terminal refuses nothing (RefusePlatform), has no acknowledgements to
// count (AckPlatform: a line read is gone, whatever its handler does) and
// no connection to drop (DropPlatform: the end of input is the end of the
// session, and the adapter stops, as TestEndOfInputStopsCleanly shows).
type platform struct {
	in      *io.PipeWriter
	replies chan [2]string
}

func (p *platform) Say(t testing.TB, conv, text string) {
	t.Helper()
	if _, err := io.WriteString(p.in, "@"+conv+" "+text+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (p *platform) Reply(t testing.TB) (string, string) {
	t.Helper()
	select {
	case r := <-p.replies:
		return r[0], r[1]
	case <-time.After(adaptertest.Timeout):
		t.Fatal("no reply")
		return "", ""
	}
}

func (p *platform) SayBad(t testing.TB) {
	t.Helper()
	for _, bad := range []string{strings.Repeat("x", 10000), "\xff\xfe not UTF-8"} {
		if _, err := io.WriteString(p.in, bad+"\n"); err != nil {
			t.Fatal(err)
		}
	}
}

func (p *platform) SaysChat() {}

func (p *platform) PushEvent(conv, text string) event.Event {
	return console.Send{Conversation: conv, Text: text}
}

func (p *platform) Address(conv string) string { return conv }

var (
	_ adaptertest.SayPlatform     = (*platform)(nil)
	_ adaptertest.PushPlatform    = (*platform)(nil)
	_ adaptertest.AddressPlatform = (*platform)(nil)
)

func harness(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &platform{in: inW, replies: make(chan [2]string, 1000)}
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			conv, text, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "["), "] ")
			p.replies <- [2]string{conv, text}
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		outW.Close()
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return adapters.NewHost(console.New(inR, outW, console.Config{Name: "term"}),
		adapters.WithScopes(cfg), adapters.WithLogger(log)), p
}

func TestConformance(t *testing.T) { adaptertest.Run(t, harness) }

func TestEndOfInputStopsCleanly(t *testing.T) {
	var out strings.Builder
	h := adapters.NewHost(console.New(strings.NewReader("@x hi\n"), &out, console.Config{}))
	err := h.Run(context.Background(), scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if m, ok := ev.(event.ChatMessage); ok {
				return conn.Send(ctx, event.Say{Text: "said: " + m.ChatText()})
			}
			return nil
		}), nil
	}))
	if !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run: %v, want ErrStopped", err)
	}
	if got := out.String(); got != "[x] said: hi\n" {
		t.Errorf("output %q, want the chat.say in conversation x", got)
	}
}

func TestRunTwice(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	h := adapters.NewHost(console.New(inR, io.Discard, console.Config{}))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), nopApp) }()
	<-h.Ready()
	if err := h.Run(context.Background(), nopApp); !errors.Is(err, adapters.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, adapters.ErrStopped) {
		t.Errorf("Run: %v, want ErrStopped", err)
	}
}

func TestShutdownBeforeRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := adapters.NewHost(console.New(strings.NewReader("hi\n"), io.Discard, console.Config{}))
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Run(context.Background(), nopApp); !errors.Is(err, adapters.ErrStopped) {
		t.Errorf("Run after Shutdown: %v, want ErrStopped", err)
	}
}

func TestFactory(t *testing.T) {
	var out strings.Builder
	a, err := console.Factory(adapters.Setup{
		Name:   "term",
		Decode: func(v any) error { v.(*console.Config).MaxLine = 8; return nil },
		Stdin:  strings.NewReader("a line far longer than eight bytes\n@y short\n"),
		Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "term" {
		t.Errorf("name %q, want the section's", a.Name())
	}
	got := make(chan string, 2)
	h := adapters.NewHost(a, adapters.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	err = h.Run(context.Background(), scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if m, ok := ev.(console.Message); ok {
				got <- m.Text
			}
			return nil
		}), nil
	}))
	if !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run: %v", err)
	}
	if len(got) != 1 || <-got != "short" {
		t.Error("max_line from the section did not skip the long line")
	}
}

var nopApp = scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
})
