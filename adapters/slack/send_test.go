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

func TestPush(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, nil)
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
	err := e.a.Push(ctx, slack.Send{Channel: "CGONE", Text: "x"})
	if re, ok := errors.AsType[*adapters.RefusedError](err); !ok || re.Code != "channel_not_found" || re.Temporary {
		t.Fatalf("Push to a missing channel: %v", err)
	}
}

func TestInvalidAuthStopsRun(t *testing.T) {
	for _, method := range []string{"auth.test", "apps.connections.open"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, slack.ModeSocket, nil)
			e.fake.Fail(method, fakeslack.Failure{Code: "invalid_auth"})
			err := e.h.Run(context.Background(), newRecorder(nil))
			if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}
