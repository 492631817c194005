package slack_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// sendErrs is sender that reports what each Send returned.
func sendErrs(errs chan<- error) func(context.Context, scope.Conn, *scope.Scope, event.Event) error {
	return func(ctx context.Context, conn scope.Conn, s *scope.Scope, ev event.Event) error {
		m, ok := ev.(slack.Message)
		if !ok {
			return nil
		}
		var err error
		if rest, ok := strings.CutPrefix(m.Text, "to "); ok {
			ch, text, _ := strings.Cut(rest, " ")
			err = conn.Send(ctx, slack.Send{Channel: ch, Text: text})
		} else {
			err = conn.Send(ctx, m.ChatReply("echo: "+m.Text))
		}
		errs <- err
		return nil // the bot carries on
	}
}

func nextErr(t *testing.T, errs <-chan error) error {
	t.Helper()
	select {
	case err := <-errs:
		return err
	case <-time.After(fakeslack.Timeout):
		t.Fatal("no send")
		return nil
	}
}

// TestRefusedSendIsAnError: a send to a channel the bot is not in returns
// a typed refusal to the instance; no event is posted, the conversation
// goes on in the same instance and other conversations are answered.
func TestRefusedSendIsAnError(t *testing.T) {
	for _, mode := range []slack.Mode{slack.ModeSocket, slack.ModeHTTP} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			errs := make(chan error, 10)
			rec := newRecorder(sendErrs(errs))
			e.run(t, rec)
			say := sayer{t, e}
			e.fake.FailChannel("CNOTIN", "not_in_channel")

			say.event(e.fake.Message("C1", "U1", "to CNOTIN hello"))
			first := rec.next(t)
			err := nextErr(t, errs)
			re, ok := errors.AsType[*adapters.RefusedError](err)
			if !ok || !errors.Is(err, adapters.ErrRefused) || re.Adapter != "slk" || re.Method != "chat.postMessage" ||
				re.Code != "not_in_channel" || re.Temporary {
				t.Fatalf("Send returned %#v", err)
			}
			if api, ok := errors.AsType[*slack.APIError](err); !ok || api.Code != "not_in_channel" {
				t.Fatalf("no *slack.APIError in %v", err)
			}

			say.event(e.fake.Message("C1", "U1", "still here"))
			say.event(e.fake.Message("C2", "U2", "hello"))
			for range 2 {
				if err := nextErr(t, errs); err != nil {
					t.Fatalf("a later send: %v", err)
				}
			}
			replies := map[string]string{}
			for _, c := range e.fake.WaitCalls(t, "chat.postMessage", 2) {
				replies[c.Channel()] = c.Text()
			}
			if replies["C1"] != "echo: still here" || replies["C2"] != "echo: hello" {
				t.Fatalf("replies %v", replies)
			}
			for range 2 { // C1's and C2's, in either order
				if g := rec.next(t); g.s.Chat.ID == "C1" && g.s != first.s {
					t.Fatal("the conversation did not go on in its instance")
				}
			}
			if n := rec.instances.Load(); n != 2 {
				t.Fatalf("%d instances, want C1's and C2's", n)
			}
			rec.none(t) // and no slack.error
		})
	}
}

// TestRefusedTemporary: a rate limit or a server error that outlasts the
// retries is a temporary refusal.
func TestRefusedTemporary(t *testing.T) {
	clk := &stillClock{t: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, slack.ModeHTTP, func(c *slack.Config) { c.MaxRetries = 1 }, clk.option())
	ctx := context.Background()
	for _, c := range []struct {
		f    fakeslack.Failure
		code string
	}{
		{fakeslack.Failure{Status: 429, RetryAfter: 1}, "ratelimited"},
		{fakeslack.Failure{Status: 503}, "http_503"},
		{fakeslack.Failure{Code: "msg_too_long"}, "msg_too_long"},
		{fakeslack.Failure{Code: "is_archived"}, "is_archived"},
	} {
		temporary := c.f.Status != 0
		if temporary {
			e.fake.Fail("chat.postMessage", c.f, c.f) // the call and its one retry
		} else {
			e.fake.Fail("chat.postMessage", c.f) // not retried
		}
		err := e.a.Push(ctx, slack.Send{Channel: "C1", Text: "x"})
		re, ok := errors.AsType[*adapters.RefusedError](err)
		if !ok || re.Code != c.code || re.Temporary != temporary {
			t.Errorf("%+v: Push returned %#v", c.f, err)
		}
	}
	if err := e.a.Push(ctx, slack.Send{Channel: "C1", Text: "through"}); err != nil {
		t.Fatalf("a send after the refusals: %v", err)
	}
}

// TestErrorEventsOptIn: with error_events, a refusal also comes back to
// the scope as slack.error, after the event being handled.
func TestErrorEventsOptIn(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, func(c *slack.Config) { c.ErrorEvents = true })
	errs := make(chan error, 10)
	rec := newRecorder(sendErrs(errs))
	e.run(t, rec)
	e.fake.FailChannel("CGONE", "channel_not_found")
	e.fake.PushEvent(e.fake.Message("C1", "U1", "to CGONE hello"))
	rec.next(t)
	if _, ok := errors.AsType[*adapters.RefusedError](nextErr(t, errs)); !ok {
		t.Fatal("Send did not return the refusal")
	}
	g := rec.next(t)
	se, ok := g.ev.(slack.Error)
	if !ok || se.Code != "channel_not_found" || se.Method != "chat.postMessage" || se.Channel != "CGONE" ||
		se.Event != "slack.send" || g.s.Chat.ID != "C1" {
		t.Fatalf("got %#v in %s", g.ev, g.s)
	}
}

// TestSayInScopeThread: chat.say goes to the scope's channel and, when the
// scope is a thread, into that thread, not as a reply to a message; it
// arrives through a channel layer as a generic event too.
func TestSayInScopeThread(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, func(c *slack.Config) { c.Threads = true })
	rec := newRecorder(func(ctx context.Context, conn scope.Conn, _ *scope.Scope, ev event.Event) error {
		m, ok := ev.(slack.Message)
		if !ok {
			return nil
		}
		if m.Text == "generic" {
			return conn.Send(ctx, event.Message{"type": "chat.say", "text": "said: " + m.Text})
		}
		return conn.Send(ctx, event.Say{Text: "said: " + m.Text})
	})
	e.run(t, rec)
	top := e.fake.Message("C1", "U1", "top")
	e.fake.PushEvent(top)
	rec.next(t)
	inThread := e.fake.Message("C1", "U1", "in thread")
	inThread["thread_ts"] = top["ts"]
	e.fake.PushEvent(inThread)
	rec.next(t)
	generic := e.fake.Message("C1", "U1", "generic")
	generic["thread_ts"] = top["ts"]
	e.fake.PushEvent(generic)
	rec.next(t)
	threads := map[string]string{}
	for _, p := range e.fake.WaitCalls(t, "chat.postMessage", 3) {
		if p.Channel() != "C1" {
			t.Errorf("said in %q", p.Channel())
		}
		threads[p.Text()] = p.Thread()
	}
	if threads["said: top"] != "" || threads["said: in thread"] != top["ts"] || threads["said: generic"] != top["ts"] {
		t.Fatalf("threads of what was said: %v", threads)
	}
	if err := e.a.Push(context.Background(), event.Say{Text: "where?"}); !errors.Is(err, slack.ErrNoChannel) {
		t.Fatalf("chat.say pushed without a scope: %v", err)
	}
}
