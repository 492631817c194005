package cluster

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/adapters"
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

// An owner reads the facts of an entry without msgpack's decoder when they
// are strings only, as a chat's are; it reads the same facts msgpack's
// decoder reads, from facts' own encoding or msgpack's struct encoder's,
// and leaves the facts with other values to msgpack.
func TestParseFacts(t *testing.T) {
	chat := sampleFacts()
	chat.Headers, chat.Subprotocols, chat.Value = nil, nil, nil
	long := facts{Type: strings.Repeat("t", 40), Adapter: strings.Repeat("a", 300), Bot: scope.User{Name: strings.Repeat("n", 70000)}}
	for name, c := range map[string]struct {
		f    facts
		fast bool
	}{
		"chat":       {chat, true},
		"type only":  {facts{Type: "x"}, true},
		"long":       {long, true},
		"all fields": {sampleFacts(), false},
		"value":      {facts{Type: "x", Value: int64(7)}, false},
	} {
		t.Run(name, func(t *testing.T) {
			p := plainFacts(c.f)
			plain, err := msgpack.Marshal(&p)
			if err != nil {
				t.Fatal(err)
			}
			own, err := appendFacts(nil, c.f)
			if err != nil {
				t.Fatal(err)
			}
			for form, data := range map[string][]byte{"own": own, "struct": plain} {
				var want facts
				if err := msgpack.Unmarshal(data, &want); err != nil {
					t.Fatal(err)
				}
				got, ok := parseFacts(string(data))
				if ok != c.fast {
					t.Fatalf("%s: parsed %v, want %v", form, ok, c.fast)
				}
				if ok && !reflect.DeepEqual(got, want) {
					t.Errorf("%s: parsed\n%+v\nmsgpack reads\n%+v", form, got, want)
				}
			}
			for _, cut := range []int{1, len(own) / 2, len(own) - 1} {
				if _, ok := parseFacts(string(own[:cut])); ok {
					t.Errorf("parsed %d of %d bytes", cut, len(own))
				}
			}
		})
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

// rawSink is a Sink that records which way each event was decoded.
type rawSink struct {
	raw, generic int
	refuse       bool // DecodeRaw reports false
}

func (s *rawSink) Deliver(context.Context, string, event.Event, func() *scope.Scope, scope.Ack) error {
	return nil
}

func (s *rawSink) Decode(m event.Message) (event.Event, error) {
	s.generic++
	return event.Decode[small](m)
}

func (s *rawSink) DecodeRaw(typ string, data []byte) (event.Event, bool, error) {
	if s.refuse || typ != (small{}).Type() {
		return nil, false, nil
	}
	s.raw++
	ev, err := event.UnmarshalAs[small](data)
	return ev, true, err
}

func (s *rawSink) Moved(func(string) bool) {}

// An entry's event reaches a sink that reads encoded events in one pass
// that way, and any other, or an entry written before the event's type
// travelled, through a generic Message: the same event either way.
func TestEntryEventDecodesInOnePass(t *testing.T) {
	in := small{ID: 7, Text: "hello", At: time.Unix(1700000000, 0), In: inner{Name: "x", N: 3}} // MessagePack reads times back in Local
	fields, err := encode(adapters.Record{Adapter: "fake", Key: "k", Scope: &scope.Scope{Type: "fake"}, Event: in})
	if err != nil {
		t.Fatal(err)
	}
	e, err := decode(rawEntry{ID: "1-0", fields: stringValues(fields)})
	if err != nil {
		t.Fatal(err)
	}
	if e.typ != in.Type() {
		t.Fatalf("the entry's type is %q, want %q", e.typ, in.Type())
	}
	old := e
	old.typ = ""
	for _, c := range []struct {
		name         string
		e            entry
		sink         *rawSink
		raw, generic int
	}{
		{"one pass", e, &rawSink{}, 1, 0},
		{"a sink that declines", e, &rawSink{refuse: true}, 0, 1},
		{"an entry without its type", old, &rawSink{}, 0, 1},
	} {
		got, err := c.e.event(c.sink)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := in
		want.Other = in.Type() // the type's own key wins over the field
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %#v, want %#v", c.name, got, want)
		}
		if c.sink.raw != c.raw || c.sink.generic != c.generic {
			t.Errorf("%s: %d decoded in one pass and %d through a Message, want %d and %d",
				c.name, c.sink.raw, c.sink.generic, c.raw, c.generic)
		}
	}
}

// stringValues turns XADD's fields into what Redis gives back: strings.
func stringValues(fields []any) []any {
	out := make([]any, len(fields))
	for i, f := range fields {
		switch v := f.(type) {
		case []byte:
			out[i] = string(v)
		default:
			out[i] = v
		}
	}
	return out
}

// FuzzParseFacts checks the hand-written reader of a scope's facts against
// msgpack's decoder: whatever it accepts, msgpack reads the same, and no
// input makes it panic or read past its end.
func FuzzParseFacts(f *testing.F) {
	chat := sampleFacts()
	chat.Headers, chat.Subprotocols, chat.Value = nil, nil, nil
	for _, fs := range []facts{chat, {Type: "x"}, sampleFacts()} {
		own, err := appendFacts(nil, fs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(own)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := parseFacts(string(data))
		if !ok {
			return
		}
		var want facts
		if err := msgpack.Unmarshal(data, &want); err != nil {
			t.Fatalf("parsed %x, which msgpack refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parsed %x as\n%+v\nmsgpack reads\n%+v", data, got, want)
		}
	})
}
