package event

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by CheckLengths' errors: a MessagePack message
// whose headers claim more than it holds, or that a decoder would read by
// rules of its own.
var ErrMalformed = errors.New("event: malformed MessagePack")

// CheckLengths walks the MessagePack value in data, without decoding it,
// and fails if a string, binary or extension claims more bytes than are
// left, a map or array more elements than could possibly follow (each
// takes a byte at least), an extension is not a timestamp, or bytes follow
// the value. It is linear in len(data) and allocates nothing.
//
// Decoders size maps and slices from their headers, so a 12-byte message
// whose header claims a billion entries would otherwise make a receiver
// allocate, or spin, for minutes: anything that can write to a layer could
// stall every consumer of a channel with one. Unmarshal checks first; so
// do the channel layers that decode on their own.
func CheckLengths[T ~string | ~[]byte](data T) error {
	pending := 1 // values still to read
	i := 0
	for pending > 0 {
		if i >= len(data) {
			return fmt.Errorf("%w: it ends with %d values unread", ErrMalformed, pending)
		}
		pending--
		c := data[i]
		i++
		var skip, items int // payload bytes to skip; elements that follow
		switch {
		case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		case c&0xf0 == 0x80:
			items = 2 * int(c&0x0f)
		case c&0xf0 == 0x90:
			items = int(c & 0x0f)
		case c&0xe0 == 0xa0:
			skip = int(c & 0x1f)
		default:
			n, width, kind, ok := header(c)
			if !ok {
				return fmt.Errorf("%w: byte 0x%02x at %d", ErrMalformed, c, i-1)
			}
			if i+width > len(data) {
				return fmt.Errorf("%w: a header is cut short at %d", ErrMalformed, i-1)
			}
			if width > 0 && n < 0 {
				n = 0
				for j := i; j < i+width; j++ {
					n = n<<8 | int(data[j])
				}
			}
			i += width
			switch kind {
			case kindBytes:
				skip = n
			case kindExt:
				// Only the timestamp extension (type -1) is known:
				// decoders read others with rules of their own.
				if i >= len(data) || data[i] != 0xff || (n != 4 && n != 8 && n != 12) {
					return fmt.Errorf("%w: the extension at %d is not a timestamp", ErrMalformed, i-width-1)
				}
				skip = n + 1 // the type byte
			case kindArray:
				items = n
			case kindMap:
				items = 2 * n
			}
		}
		if skip < 0 || skip > len(data)-i {
			return fmt.Errorf("%w: %d bytes claimed at %d, %d left", ErrMalformed, skip, i, len(data)-i)
		}
		i += skip
		if items < 0 || items > len(data)-i {
			return fmt.Errorf("%w: %d elements claimed at %d, %d bytes left", ErrMalformed, items, i, len(data)-i)
		}
		pending += items
	}
	if i != len(data) {
		return fmt.Errorf("%w: %d bytes after the value", ErrMalformed, len(data)-i)
	}
	return nil
}

const (
	kindFixed = iota // a number: width bytes of payload, nothing after
	kindBytes        // str, bin: a length, then that many bytes
	kindExt          // ext: a length, a type byte, then that many bytes
	kindArray
	kindMap
)

// header describes the MessagePack type byte c: n is the payload's fixed
// size (or -1 when width bytes of length follow), width the bytes of
// length (or of fixed payload, for numbers), kind what follows.
func header(c byte) (n, width, kind int, ok bool) {
	switch c {
	case 0xcc, 0xd0:
		return 0, 1, kindFixed, true
	case 0xcd, 0xd1:
		return 0, 2, kindFixed, true
	case 0xca, 0xce, 0xd2:
		return 0, 4, kindFixed, true
	case 0xcb, 0xcf, 0xd3:
		return 0, 8, kindFixed, true
	case 0xd4:
		return 1, 0, kindExt, true
	case 0xd5:
		return 2, 0, kindExt, true
	case 0xd6:
		return 4, 0, kindExt, true
	case 0xd7:
		return 8, 0, kindExt, true
	case 0xd8:
		return 16, 0, kindExt, true
	case 0xc4, 0xd9:
		return -1, 1, kindBytes, true
	case 0xc5, 0xda:
		return -1, 2, kindBytes, true
	case 0xc6, 0xdb:
		return -1, 4, kindBytes, true
	case 0xc7:
		return -1, 1, kindExt, true
	case 0xc8:
		return -1, 2, kindExt, true
	case 0xc9:
		return -1, 4, kindExt, true
	case 0xdc:
		return -1, 2, kindArray, true
	case 0xdd:
		return -1, 4, kindArray, true
	case 0xde:
		return -1, 2, kindMap, true
	case 0xdf:
		return -1, 4, kindMap, true
	}
	return 0, 0, 0, false
}
