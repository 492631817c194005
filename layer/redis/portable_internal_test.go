package redis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
)

type stamped struct {
	At   *time.Time           `msgpack:"at,omitempty"`
	Log  []time.Time          `msgpack:"log"`
	Seen map[string]time.Time `msgpack:"seen"`
}

func (stamped) Type() string { return "test.stamped" }

// TestPortableRefuses checks each value channels_redis cannot read is
// refused with ErrNotPortable and the path of the field that holds it.
func TestPortableRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		value any
		field string // what the error must name
		why   string
	}{
		{"integer map key", map[int]string{7: "x"}, `field "v"`, "07 is an integer"},
		{"float map key", map[float64]int{1.5: 1}, `field "v"`, "a float"},
		{"bool map key", map[bool]int{true: 1}, `field "v"`, "a boolean"},
		{"non-UTF-8 string", "a\xffb", `field "v"`, "not UTF-8"},
		{"non-UTF-8 in a list", []any{"ok", "\xfe"}, `field "v[1]"`, "not UTF-8"},
		{"non-UTF-8 map key", map[string]any{"ok": map[string]int{"\xc3": 1}}, `field "v.ok"`, `map key "\xc3" is not UTF-8`},
		{"extension type", map[string]any{"x": []any{msgpack.RawMessage{0xd4, 0x05, 0x01}}}, `field "v.x[0]"`, "extension type 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := getScratch()
			defer putScratch(s)
			_, _, err := s.encode(event.Message{"type": "test.bad", "v": c.value})
			if !errors.Is(err, ErrNotPortable) {
				t.Fatalf("encode: %v, want ErrNotPortable", err)
			}
			if !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), c.why) {
				t.Errorf("error %q does not name %s and say %q", err, c.field, c.why)
			}
		})
	}
}

// TestPortableTimes checks that a time.Time is refused wherever it is,
// in all three timestamp layouts, and in a struct's fields.
func TestPortableTimes(t *testing.T) {
	times := []time.Time{
		time.Unix(1_700_000_000, 0),                          // 32-bit seconds
		time.Date(2026, 12, 3, 9, 0, 0, 123456789, time.UTC), // 34-bit seconds with nanoseconds
		time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC),      // before 1970: 96-bit form
	}
	for _, at := range times {
		for _, c := range []struct {
			ev    event.Event
			field string
		}{
			{stamped{At: &at}, `field "at"`},
			{stamped{Log: []time.Time{at}}, `field "log[0]"`},
			{stamped{Seen: map[string]time.Time{"a": at}}, `field "seen.a"`},
			{event.Message{"type": "t", "at": at}, `field "at"`},
		} {
			s := getScratch()
			_, _, err := s.encode(c.ev)
			putScratch(s)
			if !errors.Is(err, ErrNotPortable) || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "time.Time") {
				t.Errorf("%#v: %v, want ErrNotPortable naming %s as a time.Time", c.ev, err, c.field)
			}
		}
	}
}

// TestPortableAccepts checks that what channels_redis reads passes:
// every scalar, bytes, nested lists and maps, the widest lengths.
func TestPortableAccepts(t *testing.T) {
	s := getScratch()
	defer putScratch(s)
	long := strings.Repeat("é", 40000)
	for _, m := range []event.Message{
		{"type": "t", "list": []any{1, -1 << 40, uint64(1) << 63, 1.5, float32(2), true, nil, "two", []byte{3}, map[string]any{"k": 2.5}}},
		{"type": "t", "big": make([]any, 70000), "long": long, "blob": make([]byte, 70000), "deep": map[string]any{long: []any{[]any{}}}},
	} {
		if _, _, err := s.encode(m); err != nil {
			t.Errorf("%.60v: %v", m, err)
		}
	}
}

func BenchmarkPortable(b *testing.B) {
	s := getScratch()
	defer putScratch(s)
	n, raw, err := s.encodeRaw(event.Message{"type": "chat.message", "text": strings.Repeat("héllo ", 20),
		"user": map[string]any{"id": 42, "name": "ann"}, "tags": []any{"a", "b"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if err := portable(raw, n); err != nil {
			b.Fatal(err)
		}
	}
}
