package event_test

import (
	"errors"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
)

// A 12-byte message whose map header claims 1.37 billion entries fails at
// once instead of making the decoder allocate or spin for minutes.
func TestUnmarshalRefusesLengthsBeyondTheMessage(t *testing.T) {
	for _, data := range []string{
		"\xdfQ\xd4k\t,000\x10p",                 // map32 of 0x51d46b09 entries
		"\xdd\xff\xff\xff\xff",                  // array32 of 4 billion elements
		"\x81\xa4type\xdb\x7f\xff\xff\xffx",     // str32 of 2 GiB
		"\x81\xa4type\xc9\x00\x00\x10\x00\x01x", // ext32 of 4 KiB
	} {
		done := make(chan error, 1)
		go func() { _, err := event.Unmarshal([]byte(data)); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, event.ErrMalformed) {
				t.Errorf("Unmarshal(%q): %v, want ErrMalformed", data, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Unmarshal(%q) did not return", data)
		}
	}
}

// Every well-formed message passes the check: the values of each
// MessagePack type, nested.
func TestCheckLengthsAcceptsWellFormedMessages(t *testing.T) {
	m := map[string]any{
		"type": "test.all", "nil": nil, "t": true, "f": false,
		"i8": int8(-5), "i16": int16(-300), "i32": int32(-70000), "i64": int64(-1 << 40),
		"u8": uint8(200), "u16": uint16(60000), "u32": uint32(1 << 31), "u64": uint64(1 << 63),
		"f32": float32(1.5), "f64": 2.25, "fix": 7, "neg": -3,
		"s": "short", "s8": string(make([]byte, 200)), "s16": string(make([]byte, 70000)),
		"b": []byte{1, 2, 3}, "b16": make([]byte, 300), "time": time.Unix(1_700_000_000, 5),
		"arr": []any{1, "x", []any{nil, map[string]any{"k": 1}}}, "arr16": make([]any, 20),
		"map": map[string]any{"a": map[string]any{"b": []any{}}},
	}
	data, err := msgpack.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := event.CheckLengths(data); err != nil {
		t.Fatalf("CheckLengths: %v", err)
	}
	if err := event.CheckLengths(string(data)); err != nil {
		t.Fatalf("CheckLengths of a string: %v", err)
	}
	for cut := range len(data) - 1 {
		if event.CheckLengths(data[:cut]) == nil {
			t.Fatalf("a message cut at %d of %d bytes passes", cut, len(data))
		}
	}
}

func FuzzCheckLengths(f *testing.F) {
	f.Add([]byte("\x81\xa4type\xa3a.b"))
	f.Add([]byte("\xdfQ\xd4k\t,000\x10p"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if event.CheckLengths(data) != nil {
			return
		}
		// What passes is safe to decode: it returns, whatever it says.
		_, _ = event.Unmarshal(data)
	})
}
