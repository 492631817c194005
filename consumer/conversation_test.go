package consumer_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestConversationChannelNames(t *testing.T) {
	for _, c := range []struct {
		p            int
		adapter, key string
	}{
		{0, "telegram", "-1001234567890:12/345"},
		{63, "slack", "T01:C02:1700000000.000100"},
		{7, "irc.libera", "#go-nuts"},
		{1, "xmpp", "room@conference.example.org/nick_é"},
	} {
		name, err := consumer.ConversationChannel(c.p, c.adapter, c.key)
		if err != nil {
			t.Fatalf("ConversationChannel(%d, %q, %q): %v", c.p, c.adapter, c.key, err)
		}
		if err := layer.ValidChannelName(name); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if want := "conv." + itoa(c.p) + "!"; !strings.HasPrefix(name, want) {
			t.Fatalf("%q does not start with %q", name, want)
		}
		p, a, k, ok := consumer.ParseConversationChannel(name)
		if !ok || p != c.p || a != c.adapter || k != c.key {
			t.Fatalf("Parse(%q) = %d, %q, %q, %v", name, p, a, k, ok)
		}
	}
	if _, err := consumer.ConversationChannel(0, "telegram", strings.Repeat("x", 100)); !errors.Is(err, layer.ErrInvalidName) {
		t.Fatalf("a name too long: %v", err)
	}
	for _, bad := range []string{"specific.abc!xyz", "conv.x!a.b", "conv.1!ab", "conv.1!a.b_zz", "conv.1!a.b_4"} {
		if _, _, _, ok := consumer.ParseConversationChannel(bad); ok {
			t.Fatalf("Parse(%q) accepted it", bad)
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// convs is a consumer.Conversations of one partition that records the
// facts it is asked to keep.
type convs struct {
	mu   sync.Mutex
	kept map[string]*scope.Scope
}

func (c *convs) Channel(s *scope.Scope) string {
	if s.Type == "websocket" {
		return ""
	}
	name, _ := consumer.ConversationChannel(0, s.Adapter, s.Key)
	return name
}

func (c *convs) Keep(_ context.Context, s *scope.Scope, channel string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept == nil {
		c.kept = map[string]*scope.Scope{}
	}
	c.kept[channel] = s
	return nil
}

// joiner joins "room" on its first message and says what the room says.
type joiner struct {
	consumer.Chat
}

func (j *joiner) Message(ctx context.Context, m event.ChatMessage) error {
	return j.GroupAdd(ctx, "room")
}

func (j *joiner) Said(ctx context.Context, s said) error { return j.Say(ctx, "room: "+s.Text) }

// TestConversationChannel: a chat instance below WithConversations gets
// its conversation's channel, whose facts are kept, takes a
// layer.Received as a message of its channel (dropping one it has no
// handler for), and leaves its conversation in its groups when its scope
// ends.
func TestConversationChannel(t *testing.T) {
	ctx := context.Background()
	l := newLayer(t)
	cv := &convs{}
	app := consumer.WithLayer(l, consumer.WithConversations(cv))(consumer.New(func() *joiner { return new(joiner) },
		consumer.OnMessage((*joiner).Message), consumer.On((*joiner).Said)))
	c := consumertest.NewChat(t, app)
	c.Say("join")
	want, _ := consumer.ConversationChannel(0, c.Scope().Adapter, c.Scope().Key)

	// What the receiving process hands over reaches the handler; what it
	// cannot handle is dropped and the scope goes on.
	c.Send(layer.Received{Channel: want, Message: layer.NewShared(event.Message{"type": "room.unknown"})})
	c.Send(layer.Received{Channel: want, Message: layer.NewShared(event.Message{"type": "room.said", "text": "hi"})})
	if got := c.ReceiveSay(); got != "room: hi" {
		t.Fatalf("said %q", got)
	}
	if logs := c.Logs(); !strings.Contains(logs, "layer message dropped") || !strings.Contains(logs, "room.unknown") {
		t.Fatalf("the unknown message was not logged as dropped:\n%s", logs)
	}
	cv.mu.Lock()
	kept := cv.kept[want]
	cv.mu.Unlock()
	if kept == nil || kept.Key != c.Scope().Key {
		t.Fatalf("facts kept: %v, want those of %s under %q", cv.kept, c.Scope(), want)
	}

	// The membership outlives the scope: a group send still reaches the
	// conversation's channel after the scope ended.
	var got []string
	cancel, err := l.Claim("conv.0", func(ch string, sh *layer.Shared) { got = append(got, ch+" "+sh.Event().Type()) })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	c.End(scope.ReasonIdle)
	if err := l.GroupSend(ctx, "room", said{Text: "later"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want+" room.said" {
		t.Fatalf("after the scope ended the group reached %v, want %q", got, want)
	}
}
