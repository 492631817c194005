package event_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
)

type chatSend struct {
	Chat   int64             `msgpack:"chat"`
	Text   string            `msgpack:"text"`
	Silent bool              `msgpack:"silent,omitempty"`
	Extra  map[string]string `msgpack:"extra,omitempty"`
	Data   []byte            `msgpack:"data,omitempty"`
}

func (chatSend) Type() string { return "chat.send" }

func TestRoundTripThroughTheWireForm(t *testing.T) {
	in := chatSend{Chat: -100123, Text: "héllo", Silent: true, Extra: map[string]string{"k": "v"}, Data: []byte{0, 1, 2}}
	data, err := event.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := event.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Type() != "chat.send" || msg["text"] != "héllo" {
		t.Fatalf("generic form %v", msg)
	}
	out, err := event.Decode[chatSend](msg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
}

func TestDecodeReturnsTypedValuesUnchanged(t *testing.T) {
	in := chatSend{Text: "x"}
	out, err := event.Decode[chatSend](in)
	if err != nil || out.Text != "x" {
		t.Fatalf("got %+v, %v", out, err)
	}
}

func TestDecodeRefusesAnotherType(t *testing.T) {
	_, err := event.Decode[chatSend](event.Message{"type": "chat.edit", "text": "x"})
	var te *event.TypeError
	if !errors.As(err, &te) || te.Type != "chat.edit" || te.Want != "chat.send" {
		t.Fatalf("got %v, want a TypeError", err)
	}
}

func TestUnmarshalNeedsAType(t *testing.T) {
	data, _ := event.Marshal(event.Message{"type": "x.y"})
	if _, err := event.Unmarshal(data); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{{0x80}, {0x81, 0xa4, 't', 'y', 'p', 'e', 0x01}, {0xc1}} {
		if _, err := event.Unmarshal(bad); err == nil {
			t.Errorf("Unmarshal(% x) accepted a message without a string type", bad)
		}
	}
	if _, err := event.Unmarshal([]byte{0x80}); !errors.Is(err, event.ErrNoType) {
		t.Errorf("empty map: got %v, want ErrNoType", err)
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	m := event.Message{"type": "a.b", "z": 1, "a": 2, "m": []any{"x"}}
	first, _ := event.Marshal(m)
	for range 20 {
		again, _ := event.Marshal(m)
		if string(again) != string(first) {
			t.Fatal("encoding differs between calls")
		}
	}
}

func ExampleDecode() {
	// A message as it arrives from a channel layer shared with another
	// process, and the struct a handler asks for.
	msg := event.Message{"type": "chat.send", "chat": 42, "text": "hi"}
	ev, err := event.Decode[chatSend](msg)
	fmt.Println(ev.Chat, ev.Text, err)
	// Output: 42 hi <nil>
}

func TestNestedMapsDecodeWithStringKeys(t *testing.T) {
	data, err := event.Marshal(event.Message{"type": "a.b", "inner": map[string]any{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := event.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if inner, ok := m["inner"].(map[string]any); !ok || inner["k"] != "v" {
		t.Fatalf("inner = %#v, want map[string]any", m["inner"])
	}
}

// UnmarshalAs reads Marshal's form straight into the type, as Decode does
// through the generic Message, and checks lengths as Unmarshal does.
func TestUnmarshalAsAsDecode(t *testing.T) {
	for _, in := range []chatSend{
		{Chat: -100123, Text: "héllo", Silent: true, Extra: map[string]string{"k": "v"}, Data: []byte{0, 1, 2}},
		{},
	} {
		data, err := event.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := event.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		want, err := event.Decode[chatSend](msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := event.UnmarshalAs[chatSend](data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, in) {
			t.Errorf("UnmarshalAs gave %+v, Decode %+v, want %+v", got, want, in)
		}
	}
	// A map header claiming far more entries than follow.
	if _, err := event.UnmarshalAs[chatSend]([]byte{0xdf, 0x7f, 0xff, 0xff, 0xff}); !errors.Is(err, event.ErrMalformed) {
		t.Errorf("a malformed message: got %v, want ErrMalformed", err)
	}
}
