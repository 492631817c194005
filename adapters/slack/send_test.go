package slack_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// stillClock is a clock that never moves by itself and records every wait
// asked of it; the waits end at once. It makes rate limiting and
// Retry-After observable without sleeping.
type stillClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *stillClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stillClock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

func (c *stillClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func (c *stillClock) option() slack.Option {
	return slack.WithClock(c.now, c.after)
}

// sender sends what each message asks: "to <channel> <text>".
func sender(ctx context.Context, conn scope.Conn, _ *scope.Scope, ev event.Event) error {
	if m, ok := ev.(slack.Message); ok {
		if rest, ok := strings.CutPrefix(m.Text, "to "); ok {
			ch, text, _ := strings.Cut(rest, " ")
			return conn.Send(ctx, slack.Send{Channel: ch, Text: text})
		}
		return conn.Send(ctx, m.ChatReply("echo: "+m.Text))
	}
	return nil
}

// TestRateLimitRiddenOut: a 429 with Retry-After pauses for as long as it
// says and the call is retried, as is a 500; the consumer sees no error.
func TestRateLimitRiddenOut(t *testing.T) {
	clk := &stillClock{t: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, slack.ModeSocket, nil, clk.option())
	rec := newRecorder(sender)
	e.run(t, rec)
	e.fake.Fail("chat.postMessage", fakeslack.Failure{Status: 429, RetryAfter: 7}, fakeslack.Failure{Status: 500})
	e.fake.PushEvent(e.fake.Message("C1", "U1", "hi"))
	rec.next(t)
	if p := e.fake.WaitCalls(t, "chat.postMessage", 1)[0]; p.Text() != "echo: hi" {
		t.Fatalf("posted %+v", p)
	}
	calls := e.fake.Calls("chat.postMessage")
	if len(calls) != 3 || calls[0].Err != "http_429" || calls[1].Err != "http_500" {
		t.Fatalf("calls %+v", calls)
	}
	var paused bool
	for _, w := range clk.recorded() {
		paused = paused || w == 7*time.Second
	}
	if !paused {
		t.Fatalf("no 7s pause for Retry-After among the waits %v", clk.recorded())
	}
	// The pause applies to the method: the next call waits it out too
	// rather than hitting Slack during the pause.
	rec.none(t)
}

// TestPostPacedPerChannel: chat.postMessage keeps to PostRate per channel
// after a burst, and one busy channel does not slow another.
func TestPostPacedPerChannel(t *testing.T) {
	clk := &stillClock{t: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, slack.ModeHTTP, func(c *slack.Config) { c.PostRate, c.PostBurst = 1, 3 }, clk.option())
	rec := newRecorder(nil)
	e.run(t, rec)
	ctx := context.Background()
	for i := range 5 {
		if err := e.a.Push(ctx, slack.Send{Channel: "CBUSY", Text: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	busy := clk.recorded()
	if err := e.a.Push(ctx, slack.Send{Channel: "CQUIET", Text: "q"}); err != nil {
		t.Fatal(err)
	}
	// The clock stands still: three messages go at once, then each waits
	// one more second than the last.
	if len(busy) < 2 || busy[0] != time.Second || busy[1] != 2*time.Second {
		t.Fatalf("waits for the busy channel %v, want [1s 2s] from the fourth message", busy)
	}
	if all := clk.recorded(); len(all) != len(busy) {
		t.Fatalf("the quiet channel waited: %v", all[len(busy):])
	}
	if n := len(e.fake.WaitCalls(t, "chat.postMessage", 6)); n != 6 {
		t.Fatalf("%d posts", n)
	}
}

// TestErrorReachesConsumer: an error Slack reports comes back to the
// scope as slack.error with Slack's code, and is logged without tokens.
func TestErrorReachesConsumer(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, nil)
	rec := newRecorder(sender)
	e.run(t, rec)
	e.fake.FailChannel("CGONE", "channel_not_found")
	e.fake.PushEvent(e.fake.Message("C1", "U1", "to CGONE hello"))
	rec.next(t)
	g := rec.next(t)
	se, ok := g.ev.(slack.Error)
	if !ok || se.Code != "channel_not_found" || se.Method != "chat.postMessage" || se.Channel != "CGONE" ||
		se.Event != "slack.send" || g.s.Chat.ID != "C1" {
		t.Fatalf("got %#v in %s", g.ev, g.s)
	}
	if !strings.Contains(e.logs.String(), "channel_not_found") {
		t.Error("the failure was not logged")
	}
	// invalid_auth on a call is reported the same way.
	e.fake.Fail("chat.postMessage", fakeslack.Failure{Code: "invalid_auth"})
	e.fake.PushEvent(e.fake.Message("C1", "U1", "again"))
	rec.next(t)
	if g := rec.next(t); g.ev.(slack.Error).Code != "invalid_auth" {
		t.Fatalf("got %#v", g.ev)
	}
}

func TestPush(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, nil)
	if err := e.a.Push(context.Background(), slack.Send{Channel: "C1", Text: "x"}); !errors.Is(err, slack.ErrNotRunning) {
		t.Fatalf("Push before Run: %v", err)
	}
	e.run(t, newRecorder(nil))
	ctx := context.Background()
	if err := e.a.Push(ctx, slack.Send{Channel: "C9", Thread: "1.2", Text: "pushed"}); err != nil {
		t.Fatal(err)
	}
	// The generic form, as it arrives through a channel layer.
	if err := e.a.Push(ctx, event.Message{"type": "slack.ephemeral", "channel": "C9", "user": "U9", "text": "psst"}); err != nil {
		t.Fatal(err)
	}
	if p := e.fake.WaitCalls(t, "chat.postMessage", 1)[0]; p.Channel() != "C9" || p.Thread() != "1.2" || p.Text() != "pushed" {
		t.Fatalf("posted %+v", p)
	}
	if p := e.fake.WaitCalls(t, "chat.postEphemeral", 1)[0]; p.Params["user"] != "U9" || p.Text() != "psst" {
		t.Fatalf("ephemeral %+v", p)
	}
	if err := e.a.Push(ctx, slack.Send{Text: "where?"}); !errors.Is(err, slack.ErrNoChannel) {
		t.Fatalf("Push without channel: %v", err)
	}
	if err := e.a.Push(ctx, event.Message{"type": "slack.teleport"}); !errors.Is(err, slack.ErrUnknownEvent) {
		t.Fatalf("Push of an unknown event: %v", err)
	}
	e.fake.FailChannel("CGONE", "channel_not_found")
	if err := e.a.Push(ctx, slack.Send{Channel: "CGONE", Text: "x"}); err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("Push to a missing channel: %v", err)
	}
}

func TestInvalidAuthStopsRun(t *testing.T) {
	for _, method := range []string{"auth.test", "apps.connections.open"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, slack.ModeSocket, nil)
			e.fake.Fail(method, fakeslack.Failure{Code: "invalid_auth"})
			err := e.a.Run(context.Background(), newRecorder(nil))
			if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}
