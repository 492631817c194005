package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNotPortable reports a value in a message that channels_redis cannot
// read. Python's msgpack, as channels_redis calls it (raw=False, string
// map keys only), raises on a map key that is not a string and on a
// string that is not UTF-8, and hands any extension type to Django code
// as an opaque object (a time.Time arrives as msgpack.Timestamp, which
// channels_redis could not even send back, as it refuses datetimes).
// Send and GroupSend refuse such a message, naming the field, rather
// than queue what the receiving side fails on.
//
// A time.Time is refused, not converted to text: Go's msgpack decodes a
// time.Time field only from the timestamp extension, so text would move
// the failure from the sender to every Go receiver with such a field.
// Send times as text (t.UTC().Format(time.RFC3339Nano)), which both
// Python and a string field read, or as Unix seconds.
var ErrNotPortable = errors.New("redis: value channels_redis cannot read")

// fieldError is a value refused by portable, with the path of fields
// and list indexes that leads to it.
type fieldError struct {
	path   []string // innermost first
	reason string
}

func (e *fieldError) Error() string {
	if len(e.path) == 0 {
		return e.reason
	}
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		p := e.path[i]
		if i < len(e.path)-1 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return fmt.Sprintf("field %q: %s", b.String(), e.reason)
}

func (e *fieldError) Unwrap() error { return ErrNotPortable }

// timestampExt is MessagePack's timestamp extension, which the encoder
// writes for a time.Time.
const timestampExt = 0xff // -1

// portable checks the n pairs of an encoded message against what
// channels_redis reads; see ErrNotPortable.
func portable(body []byte, n int) error {
	w := walker{in: body}
	return w.pairs(n, 0)
}

// maxDepth bounds the nesting portable follows; the encoder refuses
// deeper values before it is reached.
const maxDepth = 10000

// walker reads an encoded message.
type walker struct {
	in  []byte
	pos int
}

var errTruncated = errors.New("truncated MessagePack")

func (w *walker) need(k int) error {
	if len(w.in)-w.pos < k {
		return errTruncated
	}
	return nil
}

// length reads a big-endian length of width bytes after the type byte.
func (w *walker) length(width int) (int, error) {
	if err := w.need(1 + width); err != nil {
		return 0, err
	}
	b := w.in[w.pos+1:]
	w.pos += 1 + width
	switch width {
	case 1:
		return int(b[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(b)), nil
	}
	return int(binary.BigEndian.Uint32(b)), nil
}

// count reads the element count of a list or map whose fixed form
// starts at fix, and moves past its header.
func (w *walker) count(c, fix byte) (int, error) {
	if c&0xf0 == fix {
		w.pos++
		return int(c & 0x0f), nil
	}
	return w.length(widthOf(c))
}

// widthOf is the width of the length that follows type byte c, for the
// types whose length follows it.
func widthOf(c byte) int {
	switch c {
	case 0xc4, 0xc7, 0xd9:
		return 1
	case 0xc5, 0xc8, 0xda, 0xdc, 0xde:
		return 2
	}
	return 4
}

// pairs walks n map pairs, each key a string.
func (w *walker) pairs(n, depth int) error {
	for range n {
		key, refused, err := w.key()
		if err != nil {
			return err
		}
		if refused != "" {
			return &fieldError{reason: refused}
		}
		if err := w.value(depth + 1); err != nil {
			if fe, ok := err.(*fieldError); ok {
				fe.path = append(fe.path, string(key))
			}
			return err
		}
	}
	return nil
}

// key reads a map key: a valid string is returned; anything else is
// skipped, and the reason it is refused returned.
func (w *walker) key() (key []byte, refused string, err error) {
	start := w.pos
	if err := w.need(1); err != nil {
		return nil, "", err
	}
	if s, rest, ok := strAt(w.in[w.pos:]); ok {
		w.pos = len(w.in) - len(rest)
		if !utf8.Valid(s) {
			return nil, fmt.Sprintf("map key %q is not UTF-8; channels_redis reads only text keys", s), nil
		}
		return s, "", nil
	}
	rest, ok := skip(w.in[w.pos:])
	if !ok {
		return nil, "", errTruncated
	}
	w.pos = len(w.in) - len(rest)
	return nil, fmt.Sprintf("map key % x is %s, not a string; channels_redis reads only string keys",
		w.in[start:w.pos], kindOf(w.in[start])), nil
}

// value walks one value.
func (w *walker) value(depth int) error {
	if depth > maxDepth {
		return &fieldError{reason: "nested too deep"}
	}
	if err := w.need(1); err != nil {
		return err
	}
	c := w.in[w.pos]
	switch {
	case c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb:
		s, rest, ok := strAt(w.in[w.pos:])
		if !ok {
			return errTruncated
		}
		w.pos = len(w.in) - len(rest)
		if !utf8.Valid(s) {
			return &fieldError{reason: "string is not UTF-8 (Python cannot decode it); send bytes as []byte"}
		}
		return nil
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
		n, err := w.count(c, 0x90)
		if err != nil {
			return err
		}
		for i := range n {
			if err := w.value(depth + 1); err != nil {
				if fe, ok := err.(*fieldError); ok {
					fe.path = append(fe.path, "["+strconv.Itoa(i)+"]")
				}
				return err
			}
		}
		return nil
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		n, err := w.count(c, 0x80)
		if err != nil {
			return err
		}
		return w.pairs(n, depth)
	case c >= 0xd4 && c <= 0xd8 || c >= 0xc7 && c <= 0xc9:
		return w.ext()
	}
	rest, ok := skip(w.in[w.pos:])
	if !ok {
		return errTruncated
	}
	w.pos = len(w.in) - len(rest)
	return nil
}

// ext refuses an extension value, naming a time.Time as such.
func (w *walker) ext() error {
	c := w.in[w.pos]
	var size int
	if c >= 0xd4 && c <= 0xd8 {
		size = 1 << (c - 0xd4)
		w.pos++
	} else {
		var err error
		if size, err = w.length(widthOf(c)); err != nil {
			return err
		}
	}
	if err := w.need(1 + size); err != nil {
		return err
	}
	typ := w.in[w.pos]
	w.pos += 1 + size
	if typ == timestampExt {
		return &fieldError{reason: "a time.Time (MessagePack timestamp), which Python reads as msgpack.Timestamp; " +
			"send it as text, e.g. t.UTC().Format(time.RFC3339Nano)"}
	}
	return &fieldError{reason: fmt.Sprintf("MessagePack extension type %d, which Python reads as an opaque ExtType", int8(typ))}
}

// kindOf names the kind of value a MessagePack type byte starts.
func kindOf(c byte) string {
	switch {
	case c <= 0x7f || c >= 0xe0 || c >= 0xcc && c <= 0xd3:
		return "an integer"
	case c == 0xca || c == 0xcb:
		return "a float"
	case c == 0xc0:
		return "nil"
	case c == 0xc2 || c == 0xc3:
		return "a boolean"
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		return "a map"
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
		return "a list"
	case c >= 0xc4 && c <= 0xc6:
		return "bytes"
	}
	return "an extension value"
}
