package slack_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// gated blocks the handling of channel's events until open is closed.
func gated(channel string, open <-chan struct{}) func(context.Context, scope.Conn, *scope.Scope, event.Event) error {
	return func(ctx context.Context, _ scope.Conn, s *scope.Scope, _ event.Event) error {
		if s.Chat.ID == channel {
			<-open
		}
		return nil
	}
}

// texts reads n message texts of channel from rec, skipping other
// channels' events.
func texts(t *testing.T, rec *recorder, channel string, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		g := rec.next(t)
		if m, ok := g.ev.(slack.Message); ok && m.Channel == channel {
			out = append(out, m.Text)
		}
	}
	return out
}

func want(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// TestSocketDropLosesNothing: a connection cut while a slow conversation
// holds unacknowledged envelopes reconnects; Slack sends them again, they
// join the deliveries under way, and every event is delivered once, in
// order, and acknowledged once handled, while other conversations keep
// flowing.
func TestSocketDropLosesNothing(t *testing.T) {
	for _, how := range []string{"drop", "refresh"} {
		t.Run(how, func(t *testing.T) {
			clk := newManualClock() // no deadline passes
			e := newEnv(t, slack.ModeSocket, nil, clk.option(), inbox(1))
			open := make(chan struct{})
			rec := newRecorder(gated("CSLOW", open))
			e.run(t, rec)
			const n = 6
			var ids []string
			for i := range n {
				id, _ := e.fake.PushEvent(e.fake.Message("CSLOW", "U1", fmt.Sprintf("s%d", i)))
				ids = append(ids, id)
			}
			// The first is being handled, the second waits in the inbox,
			// the rest wait for room.
			if g := rec.next(t); g.ev.(slack.Message).Text != "s0" {
				t.Fatalf("got %+v", g.ev)
			}
			// A slow conversation holds up no other.
			fast, _ := e.fake.PushEvent(e.fake.Message("CFAST", "U2", "quick"))
			if got := texts(t, rec, "CFAST", 1); got[0] != "quick" {
				t.Fatalf("CFAST got %q", got)
			}
			e.fake.WaitAcked(t, fast)
			for _, id := range ids {
				if e.fake.Acked(id) {
					t.Fatalf("envelope %s acknowledged before its handler returned", id)
				}
			}
			if how == "drop" {
				e.fake.Drop()
			} else {
				e.fake.Disconnect("refresh_requested")
			}
			e.fake.WaitConnects(t, 2)
			for i := n; i < 2*n; i++ {
				id, _ := e.fake.PushEvent(e.fake.Message("CSLOW", "U1", fmt.Sprintf("s%d", i)))
				ids = append(ids, id)
			}
			if e.fake.Sends(ids[0]) < 2 || e.fake.Sends(ids[n-1]) < 2 {
				t.Fatalf("envelopes were not sent again after the reconnect")
			}
			close(open)
			got := append([]string{"s0"}, texts(t, rec, "CSLOW", 2*n-1)...)
			if fmt.Sprint(got) != fmt.Sprint(want("s", 2*n)) {
				t.Fatalf("delivered %q", got)
			}
			e.fake.WaitAcked(t, ids...)
			rec.none(t)
			if _, origins := e.fake.Connects(); origins[0] != "https://api.slack.com" {
				t.Errorf("origin %q", origins[0])
			}
		})
	}
}

// TestDuplicatesDeliveredOnce: Slack's retries of an accepted event, in
// either mode, are acknowledged and not delivered again.
func TestDuplicatesDeliveredOnce(t *testing.T) {
	for _, mode := range []slack.Mode{slack.ModeSocket, slack.ModeHTTP} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			rec := newRecorder(nil)
			e.run(t, rec)
			body, _ := e.fake.EventBody(e.fake.Message("C1", "U1", "once"))
			if mode == slack.ModeSocket {
				first := e.fake.PushEventBody(body)
				e.fake.WaitAcked(t, first)
				e.fake.WaitAcked(t, e.fake.PushEventBody(body), e.fake.PushEventBody(body))
			} else {
				for i := range 3 {
					var opts []fakeslackPostOption
					if i > 0 {
						opts = append(opts, retry(i))
					}
					if res := e.fake.PostSigned(t, e.endpoint+"/slack/events", "application/json", body, opts...); res.Status != 200 {
						t.Fatalf("attempt %d answered %d", i, res.Status)
					}
				}
			}
			sayer{t, e}.event(e.fake.Message("C1", "U1", "next"))
			if got := texts(t, rec, "C1", 2); fmt.Sprint(got) != "[once next]" {
				t.Fatalf("delivered %q", got)
			}
		})
	}
}

// TestOwnAndBotMessagesFiltered: the bot never sees its own messages, nor
// other bots' by default.
func TestOwnAndBotMessagesFiltered(t *testing.T) {
	e := newEnv(t, slack.ModeHTTP, nil)
	rec := newRecorder(nil)
	e.run(t, rec)
	say := sayer{t, e}
	own := e.fake.Message("C1", "U0BOT", "my own reply")
	say.event(own)
	other := e.fake.Message("C1", "", "another bot")
	other["subtype"], other["bot_id"] = "bot_message", "B0OTHER"
	say.event(other)
	mention := e.fake.AppMention("C1", "U0BOT", "<@U0BOT> talking to myself")
	say.event(mention)
	say.event(e.fake.Message("C1", "U1", "human"))
	if got := texts(t, rec, "C1", 1); got[0] != "human" {
		t.Fatalf("first delivered %q", got)
	}
	rec.none(t)
}

// TestThreadsAsConversations: with Threads, each thread is its own scope
// and replies go to the thread.
func TestThreadsAsConversations(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, func(c *slack.Config) { c.Threads = true })
	rec := newRecorder(bot)
	e.run(t, rec)
	top := e.fake.Message("C1", "U1", "top")
	e.fake.PushEvent(top)
	g1 := rec.next(t)
	reply := e.fake.Message("C1", "U1", "in thread")
	reply["thread_ts"] = top["ts"]
	e.fake.PushEvent(reply)
	g2 := rec.next(t)
	if g1.s.Key != "T0FAKE:C1" || g2.s.Key != "T0FAKE:C1:"+top["ts"].(string) || g2.s.Thread != top["ts"] {
		t.Fatalf("keys %q %q, thread %q", g1.s.Key, g2.s.Key, g2.s.Thread)
	}
	posts := e.fake.WaitCalls(t, "chat.postMessage", 2)
	threads := map[string]string{}
	for _, p := range posts {
		threads[p.Text()] = p.Thread()
	}
	if threads["echo: top"] != "" || threads["echo: in thread"] != top["ts"] {
		t.Fatalf("reply threads %v", threads)
	}
}

// TestUnknownEventTypeAcknowledged: an inner event type slack-go does not
// know still reaches the application as slack.event and is acknowledged.
func TestUnknownEventTypeAcknowledged(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, nil)
	rec := newRecorder(nil)
	e.run(t, rec)
	env, id := e.fake.PushEvent(map[string]any{"type": "brand_new_event", "channel": "C7", "user": "U7", "x": 1})
	e.fake.WaitAcked(t, env)
	g := rec.next(t)
	ev, ok := g.ev.(slack.Event)
	if !ok || ev.EventType != "brand_new_event" || ev.EventID != id || ev.Channel != "C7" || len(ev.Raw) == 0 {
		t.Fatalf("got %#v", g.ev)
	}
}
