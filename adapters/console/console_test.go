package console_test

import (
	"bufio"
	"context"
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
	return console.New(inR, outW, console.Config{Name: "term", Scopes: cfg}, log), p
}

func TestConformance(t *testing.T) { adaptertest.Run(t, harness) }

func TestEndOfInputStopsCleanly(t *testing.T) {
	var out strings.Builder
	a := console.New(strings.NewReader("@x hi\n"), &out, console.Config{}, nil)
	err := a.Run(context.Background(), scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
	}))
	if err != adapters.ErrStopped {
		t.Fatalf("Run: %v, want ErrStopped", err)
	}
}
