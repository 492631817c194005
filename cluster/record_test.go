package cluster

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
)

type inner struct {
	Name string `msgpack:"name"`
	N    int    `msgpack:"n"`
}

// small has few fields: a one-byte map header.
type small struct {
	ID    int64             `msgpack:"id"`
	Text  string            `msgpack:"text,omitempty"`
	Raw   []byte            `msgpack:"raw,omitempty"`
	At    time.Time         `msgpack:"at"`
	In    inner             `msgpack:"in"`
	Tags  map[string]string `msgpack:"tags,omitempty"`
	List  []inner           `msgpack:"list,omitempty"`
	Other string            `msgpack:"type"` // the type's own key wins over it
}

func (small) Type() string { return "test.small" }

// wide has 15 fields: with "type" its map needs a two-byte length.
type wide struct {
	A, B, C, D, E, F, G, H, I, J, K, L, M, N, O int
}

func (wide) Type() string { return "test.wide" }

// marshalEvent's one pass reads back as event.Marshal's three do.
func TestMarshalEventAsEventMarshal(t *testing.T) {
	events := []event.Event{
		small{ID: 7, Text: "hello", Raw: []byte(`{"update_id":7}`), At: time.Unix(1700000000, 5).UTC(),
			In: inner{Name: "x", N: 3}, Tags: map[string]string{"a": "b"}, List: []inner{{Name: "y"}}, Other: "not the type"},
		small{},
		&small{ID: 1},
		wide{A: 1, O: 15},
		event.Message{"type": "test.message", "text": "hi", "n": int64(2)},
	}
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	var buf bytes.Buffer
	for _, ev := range events {
		want, err := event.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalEvent(enc, &buf, ev)
		if err != nil {
			t.Fatalf("%T: %v", ev, err)
		}
		wm, err := event.Unmarshal(want)
		if err != nil {
			t.Fatal(err)
		}
		gm, err := event.Unmarshal(got)
		if err != nil {
			t.Fatalf("%T: %v", ev, err)
		}
		if !reflect.DeepEqual(gm, wm) {
			t.Errorf("%T: reads back as\n%v\nwant\n%v", ev, gm, wm)
		}
		if gm.Type() != ev.Type() {
			t.Errorf("%T: type %q, want %q", ev, gm.Type(), ev.Type())
		}
	}
}

// BenchmarkMarshalEvent compares marshalEvent with event.Marshal on an
// event like a Telegram message.
func BenchmarkMarshalEvent(b *testing.B) {
	ev := small{ID: 7, Text: "hello", Raw: bytes.Repeat([]byte("x"), 300), At: time.Unix(1700000000, 0),
		In: inner{Name: "x", N: 3}}
	b.Run("event.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := event.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshalEvent", func(b *testing.B) {
		b.ReportAllocs()
		enc := msgpack.GetEncoder()
		defer msgpack.PutEncoder(enc)
		var buf bytes.Buffer
		for b.Loop() {
			if _, err := marshalEvent(enc, &buf, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
