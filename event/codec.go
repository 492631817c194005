package event

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Marshal encodes an event as a MessagePack map whose "type" key holds the
// event's type name and whose other keys are the struct's fields, named by
// their msgpack tags. A Message is encoded as it is.
func Marshal(ev Event) ([]byte, error) {
	m, err := ToMessage(ev)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	// Sorted keys make the encoding deterministic, which keeps tests and
	// de-duplication by content honest.
	enc.SetSortMapKeys(true)
	if err := enc.Encode(map[string]any(m)); err != nil {
		return nil, fmt.Errorf("event: encode %q: %w", ev.Type(), err)
	}
	return buf.Bytes(), nil
}

// Unmarshal decodes a MessagePack map into a Message. It fails with ErrNoType
// when the map has no string "type" key.
func Unmarshal(data []byte) (Message, error) {
	// Nested maps decode as map[string]any (msgpack's default), so a
	// Message can be re-encoded and compared without surprises.
	if err := CheckLengths(data); err != nil {
		return nil, fmt.Errorf("event: decode message: %w", err)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("event: decode message: %w", err)
	}
	msg := Message(m)
	if msg.Type() == "" {
		return nil, ErrNoType
	}
	return msg, nil
}

// UnmarshalAs decodes data, an event of T's type in the form Marshal
// gives it, straight into a T: what Decode[T] gives for the Message that
// Unmarshal reads from data, without the Message between (one pass rather
// than three). The "type" key is not checked; the caller knows the type
// from elsewhere. It checks data as Unmarshal does (CheckLengths).
func UnmarshalAs[T Event](data []byte) (T, error) {
	var v T
	if err := CheckLengths(data); err != nil {
		return v, fmt.Errorf("event: decode %q: %w", v.Type(), err)
	}
	if err := msgpack.Unmarshal(data, &v); err != nil {
		var zero T
		return zero, fmt.Errorf("event: decode %q into %T: %w", zero.Type(), v, err)
	}
	return v, nil
}

// ToMessage returns the generic form of ev. A Message is returned as it is;
// a struct is converted field by field through its msgpack tags and gets its
// type name under "type".
func ToMessage(ev Event) (Message, error) {
	if m, ok := ev.(Message); ok {
		if m.Type() == "" {
			return nil, ErrNoType
		}
		return m, nil
	}
	data, err := msgpack.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("event: encode %q: %w", ev.Type(), err)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("event: %q is not a struct or map: %w", ev.Type(), err)
	}
	if m == nil {
		m = make(map[string]any, 1)
	}
	m["type"] = ev.Type()
	return Message(m), nil
}

// Decode converts ev into the Go type T. A value that already is a T is
// returned unchanged, without copying; a Message whose type matches T's is
// converted through MessagePack. Any other combination is a *TypeError.
func Decode[T Event](ev Event) (T, error) {
	if v, ok := ev.(T); ok {
		return v, nil
	}
	var zero T
	m, ok := ev.(Message)
	if !ok || m.Type() != zero.Type() {
		return zero, &TypeError{Type: ev.Type(), Want: zero.Type()}
	}
	data, err := msgpack.Marshal(map[string]any(m))
	if err != nil {
		return zero, fmt.Errorf("event: re-encode %q: %w", m.Type(), err)
	}
	var v T
	if err := msgpack.Unmarshal(data, &v); err != nil {
		return zero, fmt.Errorf("event: decode %q into %T: %w", m.Type(), v, err)
	}
	return v, nil
}
