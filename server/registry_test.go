package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		v := recover()
		if v == nil {
			t.Fatalf("no panic, want one saying %q", want)
		}
		if s, _ := v.(string); !strings.Contains(s, want) {
			t.Fatalf("panic %v, want one saying %q", v, want)
		}
	}()
	f()
}

func TestRegistryWiringMistakesPanic(t *testing.T) {
	f := new(fakes)
	mw := func(server.MiddlewareSetup) (router.Middleware, error) { return nil, nil }
	r := server.NewRegistry()
	r.RegisterAdapter("fake", f.factory)
	r.RegisterMiddleware("quiet", mw)
	mustPanic(t, "empty name", func() { r.RegisterAdapter("", f.factory) })
	mustPanic(t, `adapter "nil" registered as nil`, func() { r.RegisterAdapter("nil", nil) })
	mustPanic(t, `adapter "fake" registered twice`, func() { r.RegisterAdapter("fake", f.factory) })
	mustPanic(t, "empty name", func() { r.RegisterMiddleware("", mw) })
	mustPanic(t, `middleware "nil" registered as nil`, func() { r.RegisterMiddleware("nil", nil) })
	mustPanic(t, `middleware "quiet" registered twice`, func() { r.RegisterMiddleware("quiet", mw) })
	mustPanic(t, `bot "echo" registered twice`, func() {
		b := builtin.Registry()
		b.Register("echo", replier())
	})
	if got := strings.Join(r.AdapterKinds(), ","); got != "fake" {
		t.Errorf("AdapterKinds %q", got)
	}
	if got := strings.Join(builtin.Registry().MiddlewareNames(), ","); got != "allow_users,deny_users,logger,ratelimit,recover,sessions,timeout,token" {
		t.Errorf("built-in middleware %q", got)
	}
}

// fakeRegistry is the built-in registry plus the fake adapter kind and
// the test bots.
func fakeRegistry(f *fakes) *server.Registry {
	r := builtin.Registry()
	r.RegisterAdapter("fake", f.factory)
	r.Register("replier", replier())
	r.RegisterApp("ws-only", only{protocol: "websocket"})
	return r
}

func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing arrived")
		var zero T
		return zero
	}
}

// Two adapters of the registered kind "fake" run from their sections,
// each on a Host of its own: one under the kind's name, one under another
// name with a kind key. Each decodes its own settings, serves its
// conversations through the routes, and takes pushes from its channel.
func TestRegisteredAdaptersRunOnHosts(t *testing.T) {
	f := new(fakes)
	cfg, err := server.Parse("bot.yaml", []byte(`
fake:
  greeting: hello
  scopes: {inbox_size: 8}
second:
  kind: fake
  greeting: hi
off:
  kind: fake
  enabled: false
routes:
  fake:
    bot: replier
    middleware: [recover, {ratelimit: {per_second: 1000, burst: 10}}]
`), env())
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, fakeRegistry(f), server.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	one, two := f.get("fake"), f.get("second")
	if one == nil || two == nil {
		t.Fatalf("made %v, want fake and second", f.made)
	}
	if one.cfg.Greeting != "hello" || two.cfg.Greeting != "hi" {
		t.Fatalf("decoded %+v and %+v", one.cfg, two.cfg)
	}

	one.inbox <- "ping"
	two.inbox <- "pong"
	if got := await(t, one.sent).(fakeSay).Text; got != "fake: ping" {
		t.Errorf("fake answered %q", got)
	}
	if got := await(t, two.sent).(fakeSay).Text; got != "second: pong" {
		t.Errorf("second answered %q", got)
	}
	if err := s.Layer().Send(context.Background(), adapters.PushChannel("second"), fakeSay{Text: "news"}); err != nil {
		t.Fatal(err)
	}
	if got := await(t, two.pushed).(fakeSay).Text; got != "news" {
		t.Errorf("pushed %q", got)
	}
	select {
	case ev := <-one.pushed:
		t.Errorf("fake got second's push %v", ev)
	default:
	}

	if off := f.get("off"); off != nil && off.served.Load() {
		t.Error("the disabled adapter serves")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := await(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// writeFile writes a config into a directory of the test's own.
func writeFile(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bot.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// check runs `botserver check -config FILE` on yaml and returns its exit
// code, the file's path and what it wrote to standard error.
func check(t *testing.T, reg *server.Registry, yaml string) (int, string, string) {
	t.Helper()
	p := writeFile(t, yaml)
	var stdout, stderr bytes.Buffer
	code := server.Command{Registry: reg, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: env()}.
		Run(context.Background(), []string{"check", "-config", p})
	return code, p, stderr.String()
}

// Each mistake `botserver check` rejects, with the file, the line and a
// message that says what to do.
func TestCheckRejects(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
		want       []string
	}{
		{"route for a protocol nothing serves", `
console: {}
routes:
  console: {bot: echo}
  telegarm: {bot: echo}
`, 5, []string{`no adapter serves "telegarm" scopes`, `did you mean "telegram"?`, "served: channel, console"}},
		{"bot without handlers for its protocol", `
console: {}
routes:
  console:
    commands:
      - {command: /ws, bot: ws-only}
    fallback: {bot: echo}
`, 6, []string{"routes.console.commands[0].bot", `bot "ws-only" has no handlers for console scopes`, "route console to a bot that handles them"}},
		{"page with no route behind it", `
websocket:
  addr: 127.0.0.1:0
  page_path: /
  page_socket: /chat/
routes:
  websocket:
    paths:
      - {path: /ws/other/, bot: wschat}
`, 5, []string{`the chat page at "/" connects to "/chat/", which no websocket route serves`, `add {path: "/chat/", bot: ...}`}},
		{"page with no websocket routes at all", `
websocket: {addr: 127.0.0.1:0, page_path: /}
console: {}
routes:
  console: {bot: echo}
`, 2, []string{`connects to "/ws/", but no route serves websocket scopes`}},
		{"unknown adapter section", `
fak: {greeting: hi}
routes:
  fake: {bot: replier}
`, 2, []string{`unknown key "fak"`, "not a section, nor a registered adapter kind (adapter kinds: console, discord, fake, irc, matrix, slack, telegram, websocket, worker, xmpp)", `did you mean "fake"?`}},
		{"unknown kind", `
console: {}
bot2:
  kind: telegarm
routes:
  console: {bot: echo}
`, 3, []string{`kind "telegarm" is not a registered adapter kind (adapter kinds: console, discord, fake, irc, matrix, slack, telegram, websocket, worker, xmpp)`}},
		{"adapter setting unknown", `
fake:
  greting: hi
routes:
  fake: {bot: replier}
`, 3, []string{"fake.greting", `unknown key "greting"`, `did you mean "greeting"?`}},
		{"adapter setting unknown in a section turned off", `
console: {}
fake:
  enabled: false
  greting: hi
routes:
  console: {bot: echo}
`, 5, []string{"fake.greting", `unknown key "greting"`, `did you mean "greeting"?`}},
		{"adapter setting of the wrong type", `
fake:
  greeting: [a, b]
routes:
  fake: {bot: replier}
`, 3, []string{"fake.greeting: want a string, got a list"}},
		{"adapter factory refuses", `
console: {}
fake:
  refuse: "http mode needs a listener: set addr"
routes:
  fake: {bot: replier}
`, 3, []string{"fake: http mode needs a listener: set addr"}},
		{"adapter misnamed by its factory", `
fake: {rename: other}
routes:
  fake: {bot: replier}
`, 2, []string{`made an adapter named "other": it must take its name from Setup.Name`}},
		{"adapter scopes invalid", `
fake:
  scopes: {inbox_size: -1}
routes:
  fake: {bot: replier}
`, 3, []string{"fake.scopes", "inbox_size"}},
		{"middleware settings unknown", `
console: {}
routes:
  console:
    bot: echo
    middleware:
      - ratelimit: {per_second: 1, bust: 5}
`, 7, []string{"ratelimit.bust", `unknown key "bust"`}},
		{"middleware without its settings", `
console: {}
routes:
  console:
    bot: echo
    middleware: [logger, ratelimit]
`, 6, []string{"ratelimit: needs per_second > 0 and burst >= 1"}},
		{"middleware with settings it does not take", `
console: {}
routes:
  console:
    bot: echo
    middleware:
      - logger: {level: debug}
`, 7, []string{"logger: takes no settings"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, path, out := check(t, fakeRegistry(new(fakes)), c.yaml)
			if code != server.ExitUsage {
				t.Fatalf("exit %d, want %d; said:\n%s", code, server.ExitUsage, out)
			}
			at := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `:` + strconv.Itoa(c.line) + `: `)
			if !at.MatchString(out) {
				t.Errorf("no line starts with %s:%d:\n%s", path, c.line, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// check reports every mistake in a file, each with its line, in the
// file's order, rather than stopping at the first.
func TestCheckReportsEveryError(t *testing.T) {
	code, path, out := check(t, fakeRegistry(new(fakes)), `
console: {}
fake:
  greting: hi
routes:
  console:
    bot: nobody
    middleware: [loger]
  slakc: {bot: echo}
`)
	if code != server.ExitUsage {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var lines []string
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		m := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:(\d+): `).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("a line names no file and line: %q\nin:\n%s", l, out)
		}
		lines = append(lines, m[1])
	}
	if got := strings.Join(lines, ","); got != "4,7,8,9" {
		t.Fatalf("lines %s, want 4,7,8,9:\n%s", got, out)
	}
}

// A disabled adapter's route is a route waiting for it; a disabled
// section is decoded but its adapter is not built, so that what only
// building refuses (a missing token) waits for the day it is turned on; a
// valid file passes the check and says ok.
func TestCheckAcceptsRoutesOfDisabledAdapters(t *testing.T) {
	var stdout, stderr bytes.Buffer
	p := writeFile(t, `
console: {}
telegram: {enabled: false}
second: {kind: fake, enabled: false, refuse: "would be refused if built"}
routes:
  console: {bot: echo}
  telegram: {bot: echo}
  fake: {bot: replier}
`)
	code := server.Command{Registry: fakeRegistry(new(fakes)), Stdout: &stdout, Stderr: &stderr, Getenv: env()}.
		Run(context.Background(), []string{"check", "-config", p})
	if code != server.ExitOK || stdout.String() != p+": ok\n" {
		t.Fatalf("exit %d, %q %q", code, stdout.String(), stderr.String())
	}
}

// A config built in code runs a registered adapter from settings given as
// a value, as if read from a file.
func TestAdapterSectionInCode(t *testing.T) {
	f := new(fakes)
	sec, err := server.NewAdapterSection("fake", map[string]string{"greeting": "howdy"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &server.Config{
		Adapters: map[string]*server.AdapterSection{"fake": sec},
		Routes:   map[string]*server.Route{"fake": {Bot: "replier"}},
	}
	if err := server.Check(cfg, fakeRegistry(f)); err != nil {
		t.Fatal(err)
	}
	if a := f.get("fake"); a == nil || a.cfg.Greeting != "howdy" {
		t.Fatalf("made %+v", a)
	}
	bad, _ := server.NewAdapterSection("fake", map[string]string{"greting": "howdy"})
	cfg.Adapters["fake"] = bad
	if err := server.Check(cfg, fakeRegistry(new(fakes))); err == nil || !strings.Contains(err.Error(), `unknown key "greting"`) {
		t.Fatalf("got %v", err)
	}
}

// runFake runs a server for yaml with the fake adapter kind until the test
// ends, and returns the fakes it made.
func runFake(t *testing.T, yaml string) *fakes {
	t.Helper()
	f := new(fakes)
	cfg, err := server.Parse("bot.yaml", []byte(yaml), env())
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, fakeRegistry(f), server.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		await(t, done)
	})
	return f
}

// The Host applies the scope settings an adapter demands (ScopeConfig)
// over the file's: here an idle timeout the file does not set, against
// the default of minutes.
func TestHostAppliesTheAdaptersScopeConfig(t *testing.T) {
	f := runFake(t, "fake: {idle: 1ms, scopes: {inbox_size: 4}}\nroutes:\n  fake: {bot: replier}\n")
	a := f.get("fake")
	a.inbox <- "hello"
	await(t, a.sent)
	if r := await(t, a.ended); r != scope.ReasonIdle {
		t.Fatalf("scope ended with %q, want idle", r)
	}
}

// A factory finds a lease on a layer shared by processes (Redis), and
// none on the in-memory layer.
func TestSharedLayerOffersALease(t *testing.T) {
	mem := runFake(t, "fake: {}\nroutes:\n  fake: {bot: replier}\n")
	if _, ok := mem.get("fake").layer.(adapters.Leaser); ok {
		t.Error("the memory layer offers a lease")
	}
	red := runFake(t, fmt.Sprintf("layer: {backend: redis, redis: {url: %q, prefix: %s}}\nfake: {}\nroutes:\n  fake: {bot: replier}\n", redistest.URL(t), redisPrefix(t)))
	l, ok := red.get("fake").layer.(adapters.Leaser)
	if !ok {
		t.Fatal("the redis layer offers no lease")
	}
	ctx := context.Background()
	if held, err := l.Lease().Acquire(ctx, "test", "me", time.Minute); err != nil || !held {
		t.Fatalf("Acquire: %v, %v", held, err)
	}
	if err := l.Lease().Release(ctx, "test", "me"); err != nil {
		t.Fatal(err)
	}
}

// An adapter none of whose protocols has a route is a mistake: a worker
// without routes.channel, on the command line or from its section.
func TestAdapterWithoutRoutes(t *testing.T) {
	for _, c := range []struct {
		yaml string
		opts []server.Option
	}{
		{"console: {}\nroutes:\n  console: {bot: echo}\n", []server.Option{server.AsWorker("jobs")}},
		{"console: {}\nworker: {channels: [jobs]}\nroutes:\n  console: {bot: echo}\n", nil},
	} {
		cfg, err := server.Parse("bot.yaml", []byte(c.yaml), env())
		if err != nil {
			t.Fatal(err)
		}
		err = server.Check(cfg, builtin.Registry(), c.opts...)
		if err == nil || !strings.Contains(err.Error(), "worker: routes.channel is missing") {
			t.Errorf("%q: got %v", c.yaml, err)
		}
	}
}
