package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/bots/room"
)

// On the memory layer, a room member in a chat conversation stays in the
// room after its scope ended for being idle: a message to the room starts
// the conversation again from the facts it kept, and it says the line.
func TestConversationChannelStartsAnEndedConversation(t *testing.T) {
	term, stdio := newTerminal(t)
	s, _ := start(t, `
console: {}
ops: {addr: "127.0.0.1:0"}
scopes: {idle_timeout: 50ms}
routes:
  console: {bot: room}
`, stdio)
	term.say(t, "@ada hello")
	metrics := func() string {
		resp, err := http.Get(fmt.Sprintf("http://%s/metrics", s.OpsAddr()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(metrics(), `switchboard_scope_ends_total{protocol="console",reason="idle"} 1`) {
		if time.Now().After(deadline) {
			t.Fatalf("the conversation never ended for being idle:\n%s", metrics())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
	msg := room.Message{Room: room.Lobby, From: "Bea", Protocol: "web", Text: "still there?", Sender: "specific.web!abc"}
	if err := s.Layer().GroupSend(context.Background(), room.Group(room.Lobby), msg); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-term.lines:
		if !strings.Contains(got, "[web] Bea: still there?") {
			t.Fatalf("terminal shows %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the ended conversation never heard the room")
	}
}
