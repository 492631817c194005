package cluster

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
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

// plainFacts is facts without its encoder: msgpack's struct encoder, as
// entries were written before facts had one.
type plainFacts facts

func sampleFacts() facts {
	return facts{Type: "telegram", Adapter: "telegram", User: scope.User{ID: "42", Name: "Ann", Username: "ann"},
		Chat: scope.Chat{ID: "42", Type: "private"}, Thread: "7", Path: "/hook",
		Headers: map[string][]string{"X-A": {"1", "2"}}, Subprotocols: []string{"v1"}, ClientAddr: "10.0.0.1:5",
		Value: "reply-to"}
}

// facts' own encoder writes what msgpack's struct encoder did: each reads
// back as the other.
func TestFactsEncoding(t *testing.T) {
	for _, f := range []facts{sampleFacts(), {Type: "x"}, {Type: "x", Bot: scope.User{Language: "en"}, Value: true}} {
		own, err := msgpack.Marshal(&f)
		if err != nil {
			t.Fatal(err)
		}
		p := plainFacts(f)
		plain, err := msgpack.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		var fromOwn, fromPlain facts
		if err := msgpack.Unmarshal(own, &fromOwn); err != nil {
			t.Fatal(err)
		}
		if err := msgpack.Unmarshal(plain, &fromPlain); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromOwn, f) {
			t.Errorf("own encoding reads back as\n%+v\nwant\n%+v", fromOwn, f)
		}
		if !reflect.DeepEqual(fromOwn, fromPlain) {
			t.Errorf("own encoding reads back as\n%+v\nmsgpack's as\n%+v", fromOwn, fromPlain)
		}
	}
}

// BenchmarkFacts compares facts' own encoder with msgpack's struct
// encoder.
func BenchmarkFacts(b *testing.B) {
	f := sampleFacts()
	f.Headers, f.Subprotocols, f.Path, f.ClientAddr = nil, nil, "", "" // as a Telegram scope's
	p := plainFacts(f)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	var buf bytes.Buffer
	for _, c := range []struct {
		name string
		v    any
	}{{"struct", &p}, {"own", &f}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				enc.Reset(&buf)
				if err := enc.Encode(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
