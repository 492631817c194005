package wschat_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/bots/wschat"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChat(t *testing.T) {
	c := consumertest.NewWebSocket(t, wschat.New(), "/chat/")
	if ok, _, _ := c.Connect(); !ok {
		t.Fatal("rejected")
	}
	steps := []struct{ say, want string }{
		{"", "Welcome, Anonymous!"},
		{"hello", "Anonymous: hello"},
		{"/name Bob", "You are now Bob."},
		{"hi", "Bob: hi"},
		{"/name", "Usage: /name <name>"},
		{"/names are fun", "Bob: /names are fun"},
	}
	for _, s := range steps {
		if s.say != "" {
			c.SendText(s.say)
		}
		if got := c.ReceiveText(); got != s.want {
			t.Fatalf("after %q: got %q, want %q", s.say, got, s.want)
		}
	}
	c.Disconnect(1000)
}
