package consumer_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
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

// userCounter counts its user's frames in every conversation, and keeps
// the last one.
type userCounter struct {
	consumer.WebSocket
	consumer.Stateful[benchState]
}

func (u *userCounter) StateKey(s *scope.Scope) string { return session.UserKey(s) }

func (u *userCounter) Receive(ctx context.Context, r wsevent.Receive) error {
	u.State().N++
	u.State().Last = r.Text
	return u.SendText(ctx, r.Text)
}

// TestUserStateFromTwoConversationsAtOnce: two instances changing one
// user's state at once, on the memory store that keeps it as a value and
// hands saved values back for reuse, lose no change. (That a value
// handed to one is never given back to the other is TestSpare's, in
// session/memory.)
func TestUserStateFromTwoConversationsAtOnce(t *testing.T) {
	var mu sync.Mutex
	var made []*userCounter
	app := session.Middleware(memory.New())(consumer.New(func() *userCounter {
		u := new(userCounter)
		mu.Lock()
		made = append(made, u)
		mu.Unlock()
		return u
	}, consumer.On((*userCounter).Receive)))
	ctx := t.Context()
	const each = 1000
	var wg sync.WaitGroup
	for _, key := range []string{"c1", "c2"} {
		inst, err := app.NewInstance(ctx, &scope.Scope{Type: "websocket", Key: key, User: scope.User{ID: "ada"}}, discardConn{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range each {
				if err := inst.Handle(ctx, wsevent.Receive{Text: key + ":" + strconv.Itoa(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	inst, err := app.NewInstance(ctx, &scope.Scope{Type: "websocket", Key: "c3", User: scope.User{ID: "ada"}}, discardConn{})
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Handle(ctx, wsevent.Receive{Text: "last"}); err != nil {
		t.Fatal(err)
	}
	if got := made[len(made)-1].State(); got.N != 2*each+1 || got.Last != "last" {
		t.Fatalf("state after %d frames from two conversations and one more = %+v; want N %d", 2*each, *got, 2*each+1)
	}
}
