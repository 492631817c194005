package matrix_test

import (
	"context"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/event"
)

// TestPushAcrossProcesses: a matrix.send encoded as it crosses a Redis
// layer (MessagePack, as from a Django Channels site) is pushed as sent.
func TestPushAcrossProcesses(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	a := newAdapter(t, testConfig(srv), nil)
	b, err := event.Marshal(matrix.Send{RoomID: roomOf("a"), Text: "hi", Thread: "$root", Notice: true})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := event.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Push(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	s := srv.Sent()[0]
	rel, _ := s.Content["m.relates_to"].(map[string]any)
	if s.Room != roomOf("a") || s.Body() != "hi" || s.Content["msgtype"] != "m.notice" || rel["event_id"] != "$root" {
		t.Fatalf("posted %s %v", s.Room, s.Content)
	}
}

// TestMessageIsChatMessage: a Message answers in its room and thread, as
// a reply to itself.
func TestMessageIsChatMessage(t *testing.T) {
	var m event.ChatMessage = matrix.Message{RoomID: "!r:x", EventID: "$e", Body: "hi", Thread: "$t"}
	if m.ChatText() != "hi" {
		t.Errorf("ChatText %q", m.ChatText())
	}
	want := matrix.Send{RoomID: "!r:x", Text: "yes", Thread: "$t", ReplyTo: "$e"}
	if got := m.ChatReply("yes"); got != want {
		t.Errorf("ChatReply: %+v, want %+v", got, want)
	}
}
