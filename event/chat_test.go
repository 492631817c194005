package event_test

import (
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
)

func TestAWebSocketTextFrameIsAChatMessage(t *testing.T) {
	m, ok := event.AsChatMessage(wsevent.Receive{Text: "hi"})
	if !ok || m.ChatText() != "hi" {
		t.Fatalf("text frame: got %v, %v; want a chat message with its text", m, ok)
	}
	if got, ok := m.ChatReply("hello").(wsevent.Send); !ok || got.Text != "hello" || got.Bytes != nil {
		t.Fatalf("reply %#v, want a text frame", got)
	}
	if _, ok := event.AsChatMessage(wsevent.Receive{Bytes: []byte{1}}); ok {
		t.Fatal("a binary frame passed for a chat message")
	}
	if _, ok := event.AsChatMessage(wsevent.Connect{}); ok {
		t.Fatal("websocket.connect passed for a chat message")
	}
	if _, ok := event.AsChatMessage(event.Message{"type": "websocket.receive", "text": "x"}); ok {
		t.Fatal("a generic message passed for a chat message")
	}
}

func TestSayIsChatSay(t *testing.T) {
	m, err := event.ToMessage(event.Say{Text: "hi"})
	if err != nil || m.Type() != "chat.say" || m["text"] != "hi" {
		t.Fatalf("got %v, %v", m, err)
	}
}

func TestAsSay(t *testing.T) {
	if say, ok, err := event.AsSay(event.Say{To: "#go", Text: "hi"}); !ok || err != nil || say.To != "#go" || say.Text != "hi" {
		t.Fatalf("a Say: %+v, %v, %v", say, ok, err)
	}
	if say, ok, err := event.AsSay(event.Message{"type": "chat.say", "to": "#go", "text": "hi"}); !ok || err != nil || say.To != "#go" {
		t.Fatalf("a chat.say from the layer: %+v, %v, %v", say, ok, err)
	}
	if _, ok, err := event.AsSay(event.Message{"type": "chat.say", "text": 42}); !ok || err == nil {
		t.Fatalf("a chat.say whose text is a number: %v, %v", ok, err)
	}
	if _, ok, _ := event.AsSay(event.Message{"type": "telegram.send"}); ok {
		t.Fatal("another event taken for a chat.say")
	}
}
