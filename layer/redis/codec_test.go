package redis

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
)

type plainEvent struct {
	N     int                `msgpack:"n"`
	Text  string             `msgpack:"text,omitempty"`
	Tags  []string           `msgpack:"tags"`
	Meta  map[string]any     `msgpack:"meta"`
	At    time.Time          `msgpack:"at"`
	Inner struct{ A, B int } `msgpack:"inner"`
	Blob  []byte             `msgpack:"blob"`
	F     float64            `msgpack:"f"`
}

func (plainEvent) Type() string { return "test.plain" }

// ownType has a field of its own under "type", which the event's type
// name replaces, as event.Marshal does.
type ownType struct {
	Kind string `msgpack:"type"`
	N    int    `msgpack:"n"`
}

func (ownType) Type() string { return "test.own" }

type routed struct {
	To string `msgpack:"__asgi_channel__"`
}

func (routed) Type() string { return "test.routed" }

type pointerEvent struct{ N int }

func (*pointerEvent) Type() string { return "test.pointer" }

// TestEncodeLikeMarshal checks that the direct encoding of events decodes
// to what event.Marshal's does, including the cases that fall back to it.
func TestEncodeLikeMarshal(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var nilPointer *pointerEvent
	events := []event.Event{
		plainEvent{N: -300, Text: "héllo", Tags: []string{"a", "b"},
			Meta: map[string]any{"z": 1, "a": []any{1.5, "x", nil, map[string]any{"k": true}}},
			At:   at, Blob: []byte{0, 1, 2}, F: 2.5},
		plainEvent{N: 1 << 40},
		ownType{Kind: "mine", N: 3},
		routed{To: "x"},
		&pointerEvent{N: 7},
		nilPointer,
		event.Message{"type": "test.message", "b": 2, "a": map[string]any{"y": 1, "x": 2}},
	}
	for _, ev := range events {
		t.Run(fmt.Sprintf("%T", ev), func(t *testing.T) {
			want, err := event.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			wantMsg, err := event.Unmarshal(want)
			if err != nil {
				t.Fatal(err)
			}
			s := getScratch()
			defer putScratch(s)
			n, body, err := s.encodeRaw(ev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := event.Unmarshal(appendPlain(nil, encoded{n: n, body: body}, nil, false))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := fmt.Sprint(map[string]any(got)), fmt.Sprint(map[string]any(wantMsg)); g != w {
				t.Errorf("decoded\n%s\nwant\n%s", g, w)
			}
		})
	}
	s := getScratch()
	defer putScratch(s)
	if _, _, err := s.encode(event.Message{"type": "t", channelField: "x"}); !errors.Is(err, errReserved) {
		t.Errorf("a message with the routing field: %v, want errReserved", err)
	}
}

// TestSkip checks the MessagePack walker that finds an encoded struct's
// keys on every kind of value event.Marshal can produce.
func TestSkip(t *testing.T) {
	ev := plainEvent{N: -1 << 33, Text: string(make([]byte, 300)), Tags: make([]string, 20),
		Meta: map[string]any{"u": uint64(1) << 63, "f": float32(1), "i8": int8(-5)},
		At:   time.Now(), Blob: make([]byte, 70000)}
	data, err := event.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := skip(data)
	if !ok || len(rest) != 0 {
		t.Fatalf("skip left %d bytes, ok %v", len(rest), ok)
	}
	n, body, err := splitMap(data)
	if err != nil {
		t.Fatal(err)
	}
	if !hasKey(body, n, "type") || hasKey(body, n, "nope") {
		t.Error("hasKey does not find the keys of the map")
	}
	if !hasKey(body[:len(body)-1], n, "nope") {
		t.Error("hasKey accepted a truncated map")
	}
}

// TestDecodeFlat checks that the fast decoder returns what msgpack does,
// value types included, and leaves other shapes to it.
func TestDecodeFlat(t *testing.T) {
	flat := map[string]any{
		"type": "t", "s": "héllo", "long": strings.Repeat("x", 40), "longer": strings.Repeat("y", 300),
		"big": strings.Repeat("z", 70000), "nil": nil, "t": true, "f": false,
		"i": 1, "neg": -3, "i8": int8(-100), "i16": int16(-30000), "i32": int32(-2e9), "i64": int64(-1 << 40),
		"u8": uint8(200), "u16": uint16(60000), "u32": uint32(4e9), "u64": uint64(1 << 63),
		"f32": float32(1.5), "f64": 2.25,
	}
	for i := range 20 {
		flat["k"+strconv.Itoa(i)] = i
	}
	for _, m := range []map[string]any{flat, {"type": "small"}, {}} {
		data, err := msgpack.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := msgpack.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := decodeFlat(string(data))
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeFlat = %#v, %v; want %#v", got, ok, want)
		}
	}
	for _, m := range []map[string]any{
		{"type": "t", "nested": map[string]any{"a": 1}},
		{"type": "t", "list": []any{1}},
		{"type": "t", "blob": []byte{1}},
		{"type": "t", "at": time.Now()},
	} {
		data, err := msgpack.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := decodeFlat(string(data)); ok {
			t.Errorf("decodeFlat took %v", m)
		}
		if _, ok := decodeFlat(string(data[:len(data)-1])); ok {
			t.Errorf("decodeFlat took truncated %v", m)
		}
	}
}
