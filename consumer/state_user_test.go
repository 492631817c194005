package consumer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

type language struct {
	Lang string `json:"lang"`
}

// polyglot keeps each user's language, whatever chat they write in.
type polyglot struct {
	consumer.Chat
	consumer.Stateful[language]
}

func (p *polyglot) StateKey(s *scope.Scope) string { return session.UserKey(s) }

func (p *polyglot) Message(ctx context.Context, m event.ChatMessage) error {
	if lang, ok := strings.CutPrefix(m.ChatText(), "/lang "); ok {
		p.State().Lang = lang
	}
	return p.Reply(ctx, "lang="+p.State().Lang)
}

// TestUserStateFollowsTheUser: the state of a type keyed by user is the
// same in two chats of one user, and another user's is their own; with
// WithUser, platform users the application maps to one user share it.
func TestUserStateFollowsTheUser(t *testing.T) {
	app := session.Middleware(memory.New(), session.WithUser(func(_ context.Context, s *scope.Scope) (string, error) {
		if s.User.ID == "tg-ada" || s.User.ID == "slack-ada" {
			return "ada", nil
		}
		return "", nil
	}))(consumer.New(func() *polyglot { return new(polyglot) }, consumer.OnMessage((*polyglot).Message)))
	chat := func(key, user string) *consumertest.Chat {
		c := consumertest.NewChat(t, app)
		c.Scope().Key, c.Scope().User.ID = key, user
		return c
	}
	expect := func(c *consumertest.Chat, text, want string) {
		t.Helper()
		c.Say(text)
		if got := c.ReceiveReply().Text; got != want {
			t.Fatalf("%s in %s: %q; want %q", text, c.Scope().Key, got, want)
		}
	}
	expect(chat("group", "tg-ada"), "/lang fr", "lang=fr")
	expect(chat("private", "tg-ada"), "hi", "lang=fr")
	expect(chat("slack-dm", "slack-ada"), "hi", "lang=fr")
	expect(chat("group2", "bob"), "hi", "lang=")
}
