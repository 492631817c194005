package slack_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// bot answers messages and commands through ChatReply and block actions by
// updating the message and reacting to it.
func bot(ctx context.Context, conn scope.Conn, _ *scope.Scope, ev event.Event) error {
	switch ev := ev.(type) {
	case consumer.ChatMessage:
		return conn.Send(ctx, ev.ChatReply("echo: "+ev.ChatText()))
	case slack.Interaction:
		if err := conn.Send(ctx, slack.Update{TS: ev.MessageTS, Text: "pressed " + ev.Value}); err != nil {
			return err
		}
		return conn.Send(ctx, slack.React{TS: ev.MessageTS, Name: "white_check_mark"})
	}
	return nil
}

// say sends one message, command or interaction the way mode carries it.
type sayer struct {
	t *testing.T
	e *env
}

func (s sayer) event(inner any) string {
	s.t.Helper()
	if s.e.endpoint == "" {
		_, id := s.e.fake.PushEvent(inner)
		return id
	}
	res, id := s.e.fake.PostEvent(s.t, s.e.endpoint+"/slack/events", inner)
	if res.Status != http.StatusOK {
		s.t.Fatalf("event answered %d %q", res.Status, res.Body)
	}
	return id
}

func (s sayer) command(cmd map[string]string) {
	s.t.Helper()
	if s.e.endpoint == "" {
		s.e.fake.WaitAcked(s.t, s.e.fake.PushCommand(cmd))
		return
	}
	if res := s.e.fake.PostCommand(s.t, s.e.endpoint+"/slack/commands", cmd); res.Status != http.StatusOK {
		s.t.Fatalf("command answered %d %q", res.Status, res.Body)
	}
}

func (s sayer) interaction(payload any) {
	s.t.Helper()
	if s.e.endpoint == "" {
		s.e.fake.WaitAcked(s.t, s.e.fake.PushInteraction(payload))
		return
	}
	if res := s.e.fake.PostInteraction(s.t, s.e.endpoint+"/slack/interactivity", payload); res.Status != http.StatusOK {
		s.t.Fatalf("interaction answered %d %q", res.Status, res.Body)
	}
}

func TestEndToEnd(t *testing.T) {
	for _, mode := range []slack.Mode{slack.ModeSocket, slack.ModeHTTP} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			rec := newRecorder(bot)
			e.run(t, rec)
			say := sayer{t, e}

			// A message in, a reply out.
			say.event(e.fake.Message("D1", "U1", "hello"))
			g := rec.next(t)
			m, ok := g.ev.(slack.Message)
			if !ok || m.Text != "hello" || m.Channel != "D1" || m.User != "U1" || m.TS == "" {
				t.Fatalf("got %#v", g.ev)
			}
			if g.s.Type != "slack" || g.s.Adapter != "slk" || g.s.Key != fakeslack.TeamID+":D1" ||
				g.s.Chat.ID != "D1" || g.s.Chat.Type != "im" || g.s.User.ID != "U1" ||
				g.s.Bot.ID != fakeslack.BotUserID || g.s.Team != fakeslack.TeamID {
				t.Errorf("scope %+v (team %q)", g.s, g.s.Team)
			}
			post := e.fake.WaitCalls(t, "chat.postMessage", 1)[0]
			if post.Channel() != "D1" || post.Text() != "echo: hello" || post.Thread() != "" ||
				post.Token != fakeslack.BotToken {
				t.Errorf("reply %+v", post)
			}

			// A slash command answered through its response_url.
			cmd := e.fake.Command("C2", "U2", "/deploy", "prod now")
			say.command(cmd)
			g = rec.next(t)
			if c, ok := g.ev.(slack.Command); !ok || c.Command != "/deploy" || c.Text != "prod now" ||
				c.TriggerID != cmd["trigger_id"] || c.ResponseURL != cmd["response_url"] {
				t.Fatalf("got %#v", g.ev)
			}
			resp := e.fake.WaitCalls(t, "response_url", 1)[0]
			if resp.Text() != "echo: /deploy prod now" || resp.Params["response_id"] != cmd["trigger_id"] {
				t.Errorf("response_url post %+v", resp)
			}

			// A block action handled: the message updated and reacted to.
			say.interaction(e.fake.BlockAction("C2", "U2", "approve", "yes", "1700000000.000042"))
			g = rec.next(t)
			if in, ok := g.ev.(slack.Interaction); !ok || in.Kind != "block_actions" || in.ActionID != "approve" ||
				in.Value != "yes" || in.MessageTS != "1700000000.000042" || in.Channel != "C2" {
				t.Fatalf("got %#v", g.ev)
			}
			up := e.fake.WaitCalls(t, "chat.update", 1)[0]
			if up.Channel() != "C2" || up.Params["ts"] != "1700000000.000042" || up.Text() != "pressed yes" {
				t.Errorf("update %+v", up)
			}
			react := e.fake.WaitCalls(t, "reactions.add", 1)[0]
			if react.Params["name"] != "white_check_mark" || react.Params["timestamp"] != "1700000000.000042" {
				t.Errorf("reaction %+v", react)
			}
		})
	}
}

func TestURLVerification(t *testing.T) {
	e := newEnv(t, slack.ModeHTTP, nil)
	e.run(t, newRecorder(nil))
	res := e.fake.PostSigned(t, e.endpoint+"/slack/events", "application/json",
		[]byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`))
	if res.Status != http.StatusOK || res.Body != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("answered %d %q", res.Status, res.Body)
	}
	res = e.fake.PostSigned(t, e.endpoint+"/slack/events", "application/json",
		[]byte(`{"challenge":"c","type":"url_verification"}`), fakeslack.WithSecret("forged"))
	if res.Status != http.StatusUnauthorized {
		t.Fatalf("forged verification answered %d", res.Status)
	}
}

// TestBadInputCreatesNoScope: rejected requests reach no application, and
// the endpoint keeps serving.
func TestBadInputCreatesNoScope(t *testing.T) {
	e := newEnv(t, slack.ModeHTTP, nil)
	rec := newRecorder(nil)
	e.run(t, rec)
	for name, st := range badRequests(t, e) {
		if st.got != st.want {
			t.Errorf("%s: answered %d, want %d", name, st.got, st.want)
		}
	}
	sayer{t, e}.event(e.fake.Message("CGOOD", "U1", "fine"))
	if g := rec.next(t); g.s.Chat.ID != "CGOOD" {
		t.Fatalf("first scope is %+v, want CGOOD's", g.s)
	}
	if n := rec.instances.Load(); n != 1 {
		t.Fatalf("%d instances, want 1: bad input made a scope", n)
	}
}
