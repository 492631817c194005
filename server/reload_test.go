package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// reloadRig runs a server of fake adapters and reloads it.
type reloadRig struct {
	t     *testing.T
	f     *fakes
	reg   *server.Registry
	s     *server.Server
	level *slog.LevelVar
}

func newReloadRig(t *testing.T, yaml string) *reloadRig {
	t.Helper()
	r := &reloadRig{t: t, f: &fakes{}, reg: server.NewRegistry(), level: new(slog.LevelVar)}
	r.reg.RegisterAdapter("fake", r.f.factory)
	r.reg.Register("reply", replier())
	r.reg.Register("other", func(server.Deps) (scope.Application, error) {
		return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
			return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
				if m, ok := ev.(fakeMessage); ok {
					return conn.Send(ctx, fakeSay{Text: "other: " + m.Text})
				}
				return nil
			}), nil
		}), nil
	})
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: r.level}))
	s, err := server.New(r.parse(yaml), r.reg, server.WithLogger(log), server.WithLogLevel(r.level))
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	run := &running{done: make(chan struct{})}
	go func() { run.err = s.Run(context.Background()); close(run.done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := run.wait(t); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

func (r *reloadRig) parse(yaml string) *server.Config {
	r.t.Helper()
	cfg, err := server.Parse("test.yaml", []byte(yaml), env())
	if err != nil {
		r.t.Fatal(err)
	}
	return cfg
}

func (r *reloadRig) reload(yaml string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.s.Reload(ctx, r.parse(yaml))
}

// adapter waits until an adapter named name other than old serves, and
// returns it.
func (r *reloadRig) adapter(name string, old *fakeAdapter) *fakeAdapter {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if a := r.f.serving(name); a != nil && (old == nil || a != old) {
			return a
		}
		select {
		case <-deadline:
			r.t.Fatalf("adapter %s never served", name)
		case <-time.After(time.Millisecond):
		}
	}
}

// say types text into a and returns what the bot answered.
func say(t *testing.T, a *fakeAdapter, text string) string {
	t.Helper()
	a.inbox <- text
	select {
	case ev := <-a.sent:
		return ev.(fakeSay).Text
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no answer to %q", a.name, text)
		return ""
	}
}

const reloadBase = `
a: {kind: fake, greeting: one}
b: {kind: fake, greeting: one}
log: {level: info}
routes:
  fake: {bot: reply}
`

// An adapter whose own section changed is restarted alone: the other keeps
// its conversation on the routes it started with, while the restarted
// one's new conversation takes the new routes.
func TestReloadRestartsOnlyTheAdapterWhoseSectionChanged(t *testing.T) {
	r := newReloadRig(t, reloadBase)
	a, b := r.adapter("a", nil), r.adapter("b", nil)
	if got := say(t, a, "hi"); got != "a: hi" {
		t.Fatalf("got %q", got)
	}
	say(t, b, "hi")

	err := r.reload(`
a: {kind: fake, greeting: one}
b: {kind: fake, greeting: two}
log: {level: debug}
routes:
  fake: {bot: other}
`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case reason := <-b.ended:
		if reason != scope.ReasonShutdown {
			t.Fatalf("b's conversation ended with %q, want shutdown", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b, whose section changed, was not stopped")
	}
	b2 := r.adapter("b", b)
	if b2.cfg.Greeting != "two" {
		t.Fatalf("b restarted with greeting %q, want the new section's", b2.cfg.Greeting)
	}
	if r.f.serving("a") != a {
		t.Fatal("a, whose section did not change, was restarted")
	}
	// a's live conversation finishes on the old routes; b's new one starts
	// on the new.
	if got := say(t, a, "again"); got != "a: again" {
		t.Fatalf("a's live conversation: got %q, want the old route's answer", got)
	}
	select {
	case reason := <-a.ended:
		t.Fatalf("a's conversation ended (%s) on a reload that did not concern it", reason)
	default:
	}
	if got := say(t, b2, "hi"); got != "other: hi" {
		t.Fatalf("a new conversation: got %q, want the new route's answer", got)
	}
	if r.level.Level() != slog.LevelDebug {
		t.Fatalf("log level %v after reloading debug", r.level.Level())
	}
}

// A config that fails Check is refused with its errors, and the running
// one stays.
func TestReloadRefusesABrokenConfig(t *testing.T) {
	r := newReloadRig(t, reloadBase)
	a := r.adapter("a", nil)
	err := r.reload(`
a: {kind: fake, greeting: two}
log: {level: loud}
routes:
  fake: {bot: nobody}
`)
	if !errors.Is(err, server.ErrReloadRefused) {
		t.Fatalf("got %v, want ErrReloadRefused", err)
	}
	for _, want := range []string{`test.yaml:3: log.level must be debug, info, warn or error, got "loud"`, `test.yaml:5: routes.fake.bot: no bot named "nobody"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q:\n%v", want, err)
		}
	}
	if r.f.serving("a") != a {
		t.Fatal("a refused reload restarted an adapter")
	}
	if got := say(t, a, "still"); got != "a: still" {
		t.Fatalf("after a refused reload: got %q", got)
	}
	if r.level.Level() != slog.LevelInfo {
		t.Fatalf("log level %v after a refused reload", r.level.Level())
	}
}

// Changed scopes settings restart the adapters that inherit them; an
// adapter removed stops and one added starts.
func TestReloadScopesAndAdaptersAddedAndRemoved(t *testing.T) {
	r := newReloadRig(t, reloadBase)
	a, b := r.adapter("a", nil), r.adapter("b", nil)
	say(t, b, "hi")
	err := r.reload(`
a: {kind: fake, greeting: one, scopes: {max_scopes: 10}}
c: {kind: fake}
routes:
  fake: {bot: reply}
`)
	if err != nil {
		t.Fatal(err)
	}
	r.adapter("a", a) // its scopes changed: restarted
	if got := say(t, r.adapter("c", nil), "new"); got != "c: new" {
		t.Fatalf("the added adapter: got %q", got)
	}
	select {
	case reason := <-b.ended:
		if reason != scope.ReasonShutdown {
			t.Fatalf("the removed adapter's conversation ended with %q", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the removed adapter's conversation did not end")
	}
}

// Reload before Run, or after Shutdown, says the server is not running.
func TestReloadWhenNotRunning(t *testing.T) {
	reg := server.NewRegistry()
	f := &fakes{}
	reg.RegisterAdapter("fake", f.factory)
	reg.Register("reply", replier())
	cfg, err := server.Parse("test.yaml", []byte(reloadBase), env())
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, reg, server.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(context.Background(), cfg); !errors.Is(err, server.ErrNotRunning) {
		t.Fatalf("got %v, want ErrNotRunning", err)
	}
	_ = s.Shutdown(context.Background())
}
