package router_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Events of an imaginary chat protocol.

type message struct{ text string }

func (message) Type() string                     { return "chat.message" }
func (m message) ChatText() string               { return m.text }
func (m message) ChatReply(t string) event.Event { return reply{t} }

type reaction struct{ emoji string }

func (reaction) Type() string { return "chat.reaction" }

type disconnect struct{ reason scope.Reason }

func (disconnect) Type() string              { return "chat.disconnect" }
func (d disconnect) EndReason() scope.Reason { return d.reason }

type reply struct{ text string }

func (reply) Type() string { return "chat.send" }

// journal is what the test applications write to, shared by all of them.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, args...))
}

func (j *journal) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := j.lines
	j.lines = nil
	return l
}

// app is a test application whose instances write what they see to a
// journal: "name start <params> rest=<RoutePath>" when made, then
// "name <event> [text]" per event.
type app struct {
	name   string
	j      *journal
	newErr error
	// handle, when set, runs after the event is written down.
	handle func(ctx context.Context, s *scope.Scope, conn scope.Conn, ev event.Event) error
}

func newApp(name string, j *journal) *app { return &app{name: name, j: j} }

func (a *app) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	if a.newErr != nil {
		return nil, a.newErr
	}
	if a.j != nil {
		a.j.add("%s start %s rest=%q", a.name, params(s), s.RoutePath())
	}
	return &instance{a: a, s: s, conn: conn}, nil
}

type instance struct {
	a    *app
	s    *scope.Scope
	conn scope.Conn
}

func (in *instance) Handle(ctx context.Context, ev event.Event) error {
	line := in.a.name + " " + ev.Type()
	if m, ok := event.AsChatMessage(ev); ok {
		line += fmt.Sprintf(" %q", m.ChatText())
	}
	if c, ok := router.CommandFrom(ctx); ok {
		line += fmt.Sprintf(" cmd=%s args=%q", c.Name, c.Args)
	}
	if d, ok := ev.(scope.Final); ok {
		line += " reason=" + string(d.EndReason())
	}
	if in.a.j != nil {
		in.a.j.add("%s", line)
	}
	if in.a.handle != nil {
		return in.a.handle(ctx, in.s, in.conn, ev)
	}
	return nil
}

// params formats a scope's parameters sorted by name: "{a=1 b=2}".
func params(s *scope.Scope) string {
	m := s.Params()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s.Param(k)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// conn records what instances send and post.
type conn struct {
	mu     sync.Mutex
	sent   []event.Event
	posted []event.Event
	postCh chan event.Event // when set, Post also delivers here
}

func (c *conn) Send(_ context.Context, ev event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, ev)
	return nil
}

func (c *conn) Post(ctx context.Context, ev event.Event) error {
	c.mu.Lock()
	c.posted = append(c.posted, ev)
	ch := c.postCh
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (c *conn) takePosted() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.posted
	c.posted = nil
	return p
}

// tag is middleware that writes "tag name" to j when its NewInstance runs,
// with the parameters it sees, and "tag name <event>" per event.
func tag(name string, j *journal) router.Middleware {
	return func(next scope.Application) scope.Application {
		return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, c scope.Conn) (scope.Instance, error) {
			j.add("mw %s %s", name, params(s))
			inst, err := next.NewInstance(ctx, s, c)
			if err != nil {
				return nil, err
			}
			return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
				j.add("mw %s %s", name, ev.Type())
				return inst.Handle(ctx, ev)
			}), nil
		})
	}
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// mustPanic runs f and checks that it panics with a message containing
// every one of want.
func mustPanic(t *testing.T, f func(), want ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if v == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		msg := fmt.Sprint(v)
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Fatalf("panic %q does not mention %q", msg, w)
			}
		}
	}()
	f()
}
