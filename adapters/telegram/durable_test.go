package telegram_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/event"
)

// Inbound events read back from a durable intake decode to the types the
// adapter made, equal to the originals, through a generic Message or in
// one pass, and carry their update_id; a type the adapter does not make is
// left to the generic path.
func TestDecodeInbound(t *testing.T) {
	a, _ := newAdapter(t, telegram.Config{Name: "tg", Token: "1:x"})
	for _, ev := range []event.Event{
		telegram.Message{UpdateID: 7, MessageID: 3, Chat: telegram.Chat{ID: -100, Type: "group"},
			From: telegram.User{ID: 5, FirstName: "Ann"}, Text: "hi", Raw: json.RawMessage(`{"update_id":7}`)},
		telegram.EditedMessage{UpdateID: 8, Text: "hi!"},
		telegram.CallbackQuery{UpdateID: 9, ID: "q", Data: "yes"},
		telegram.Update{UpdateID: 10, Kind: "my_chat_member"},
	} {
		b, err := event.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		m, err := event.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.DecodeInbound(m)
		if err != nil {
			t.Fatalf("%s: %v", ev.Type(), err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("%s: decoded %#v, want %#v", ev.Type(), got, ev)
		}
		raw, ok, err := a.DecodeInboundRaw(ev.Type(), b)
		if err != nil || !ok {
			t.Fatalf("%s: DecodeInboundRaw: %v, %v", ev.Type(), ok, err)
		}
		if !reflect.DeepEqual(raw, ev) {
			t.Errorf("%s: decoded in one pass %#v, want %#v", ev.Type(), raw, ev)
		}
		if id := ev.(adapters.Unique).UniqueID(); id == "" || id == "0" {
			t.Errorf("%s: UniqueID %q", ev.Type(), id)
		}
	}
	if _, ok, err := a.DecodeInboundRaw("telegram.other", []byte{0x80}); ok || err != nil {
		t.Errorf("an unknown type: DecodeInboundRaw reported %v, %v; want false, nil", ok, err)
	}
}
