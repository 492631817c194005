package irc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/irc"
	"github.com/switchboard-bots/switchboard/adapters/irc/irctest"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/scope"
)

// holdBot answers every message, except that "hold" holds its handler
// until the test releases it.
type holdBot struct {
	consumer.Chat
	held    chan<- struct{}
	release <-chan struct{}
}

func (b *holdBot) message(ctx context.Context, m consumer.ChatMessage) error {
	if m.ChatText() == "hold" {
		b.held <- struct{}{}
		<-b.release
	}
	return b.Reply(ctx, "echo: "+m.ChatText())
}

// A user floods a channel whose handler is stuck: IRC sends nothing
// again, so what finds the inbox full is dropped, counted and logged,
// and so is a line that is not UTF-8; the reader never waits, so another
// conversation is answered meanwhile, and the stuck one goes on with what
// its inbox held once released.
func TestFloodOfAStuckConversationIsDroppedAndCounted(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	bob := srv.Dial(t, "bob")
	var logs logtest.Buffer
	a, err := irc.New("irc", irc.Config{Endpoint: adapters.Endpoint{Server: srv.Addr()}, Nick: "bot", Channels: []string{"#room"}})
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(a, adapters.WithLogger(logs.Logger()), adapters.WithScopes(scope.Config{IdleTimeout: -1, InboxSize: 1}))
	held, release := make(chan struct{}, 1), make(chan struct{})
	serve(t, h, consumer.New(func() *holdBot { return &holdBot{held: held, release: release} }, consumer.OnMessage((*holdBot).message)))
	alice.FromBot("bot", "JOIN")

	alice.Send("PRIVMSG #room :hold")
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the held message was not handled")
	}
	for _, text := range []string{"queued", "flood 1", "flood 2", "flood 3"} {
		alice.Send("PRIVMSG #room :" + text)
	}
	logs.Await(t, "dropped_total=3", 10*time.Second)

	bob.Send("PRIVMSG bot :latin-1 \xe9t\xe9") // not UTF-8
	logs.Await(t, "dropped_total=4", 10*time.Second)
	bob.Send("PRIVMSG bot :hi")
	if l := bob.FromBot("bot", "PRIVMSG"); l.Params[1] != "echo: hi" {
		t.Fatalf("bob, while #room is stuck: %q", l.Raw)
	}

	var dropped []string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "inbound message dropped") {
			dropped = append(dropped, l)
		}
	}
	if len(dropped) != 4 {
		t.Fatalf("%d drops logged, want 4:\n%s", len(dropped), logs.String())
	}
	for i, want := range []string{"key=#room", "key=#room", "key=#room", "key=bob"} {
		if !strings.Contains(dropped[i], "adapter=irc "+want) {
			t.Errorf("drop %d: %q, want adapter=irc %s", i+1, dropped[i], want)
		}
	}
	if !strings.Contains(dropped[3], "not UTF-8") {
		t.Errorf("drop 4: %q, want the UTF-8 error", dropped[3])
	}

	close(release)
	for _, want := range []string{"echo: hold", "echo: queued"} {
		if l := alice.FromBot("bot", "PRIVMSG"); l.Params[1] != want {
			t.Fatalf("#room once released: %q, want %q", l.Raw, want)
		}
	}
}
