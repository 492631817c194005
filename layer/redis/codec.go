package redis

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
)

// The wire form is channels_redis': a sorted set member is 12 random bytes,
// which keep equal messages distinct in the set, followed by the message as
// a MessagePack map (encrypted when keys are configured). Messages to
// process-local channels carry the full channel name under channelField (a
// list of names when a group send put one copy in a key shared by several
// members), since their key holds every channel of the process.
const (
	randomLen    = 12
	channelField = "__asgi_channel__"
)

var errReserved = errors.New("redis: the " + channelField + " field is reserved for routing")

// codec turns events into set members and back.
type codec struct {
	crypt *crypter // nil: payloads in clear
}

// encoded is an event marshalled once, ready to be given a routing field
// per key.
type encoded struct {
	n    int    // pairs in the map
	body []byte // the encoded pairs, without the map header
}

func (c *codec) marshal(ev event.Event) (encoded, error) {
	s := getScratch()
	defer putScratch(s)
	n, body, err := s.encode(ev)
	if err != nil {
		return encoded{}, err
	}
	// body lives in the pooled scratch buffer; a group send keeps it for
	// every member it builds, so it gets a copy.
	return encoded{n: n, body: bytes.Clone(body)}, nil
}

// scratch is the reusable state of one encoding: a MessagePack encoder
// writing into a buffer that outlives the call, so that encoding an event
// costs no allocation of its own once the pool is warm.
type scratch struct {
	buf []byte
	enc *msgpack.Encoder
}

func (s *scratch) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (s *scratch) WriteByte(b byte) error {
	s.buf = append(s.buf, b)
	return nil
}

var scratches = sync.Pool{New: func() any {
	s := &scratch{buf: make([]byte, 0, 256)}
	s.enc = msgpack.NewEncoder(s)
	// Sorted keys make the encoding deterministic, as event.Marshal's is.
	s.enc.SetSortMapKeys(true)
	return s
}}

// maxPooled keeps one huge event from pinning its buffer in the pool.
const maxPooled = 64 << 10

func getScratch() *scratch { return scratches.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.buf) > maxPooled {
		return
	}
	s.buf = s.buf[:0]
	scratches.Put(s)
}

// encode encodes ev as encodeRaw does, and refuses what channels_redis
// cannot read (see ErrNotPortable).
func (s *scratch) encode(ev event.Event) (int, []byte, error) {
	n, body, err := s.encodeRaw(ev)
	if err != nil {
		return 0, nil, err
	}
	if err := portable(body, n); err != nil {
		return 0, nil, err
	}
	return n, body, nil
}

// encodeRaw encodes ev as event.Marshal does, as a map holding the event's
// fields and its type under "type", and returns the pair count and the
// pairs, which stay valid until s is reused. A struct is encoded directly
// with its type appended, rather than through event.Marshal's generic map,
// which costs a decode and a map per send; the bytes may differ from
// event.Marshal's (field order, integer widths) but decode to the same
// map. A struct whose own fields use the "type" key or the routing field
// takes the generic path, so that it behaves exactly as before.
func (s *scratch) encodeRaw(ev event.Event) (int, []byte, error) {
	s.buf = s.buf[:0]
	if m, ok := ev.(event.Message); ok {
		if _, ok := m[channelField]; ok {
			return 0, nil, errReserved
		}
		if m.Type() == "" {
			return 0, nil, event.ErrNoType
		}
		if err := s.enc.Encode(map[string]any(m)); err != nil {
			return 0, nil, fmt.Errorf("event: encode %q: %w", m.Type(), err)
		}
		return splitMap(s.buf)
	}
	if err := s.enc.Encode(ev); err == nil {
		var n int
		var body []byte
		var err error
		if len(s.buf) == 1 && s.buf[0] == 0xc0 { // a nil pointer: no fields
			body = s.buf[1:]
		} else {
			n, body, err = splitMap(s.buf)
		}
		if err == nil && !hasKey(body, n, "type", channelField) {
			body = appendStr(appendStr(body, "type"), ev.Type())
			return n + 1, body, nil
		}
	}
	data, err := event.Marshal(ev)
	if err != nil {
		return 0, nil, err
	}
	return splitMap(data)
}

// member returns the set member for e sent to the channels names, which
// share one key: with no routing field when names is nil, a string for
// one name from Send, a list from a group send.
func (c *codec) member(e encoded, names []string, list bool) ([]byte, error) {
	size := 5 + len(e.body)
	if names != nil {
		size += 1 + len(channelField) + 5
		for _, n := range names {
			size += 5 + len(n)
		}
	}
	if c.crypt == nil {
		out := make([]byte, randomLen, randomLen+size)
		putRandom(out)
		return appendPlain(out, e, names, list), nil
	}
	s := getScratch()
	defer putScratch(s)
	s.buf = appendPlain(slices.Grow(s.buf[:0], size), e, names, list)
	out := make([]byte, randomLen, randomLen+len(s.buf)+cryptOverhead)
	putRandom(out)
	return c.crypt.seal(out, s.buf), nil
}

// appendPlain appends the MessagePack map of e, with the routing field for
// names, to b.
func appendPlain(b []byte, e encoded, names []string, list bool) []byte {
	if names == nil {
		return append(appendMapHeader(b, e.n), e.body...)
	}
	b = append(appendMapHeader(b, e.n+1), e.body...)
	b = appendStr(b, channelField)
	if list {
		return appendStrArray(b, names)
	}
	return appendStr(b, names[0])
}

// decoder is a reusable MessagePack decoder with the reader it decodes
// from, for the members decodeFlat leaves to it.
type decoder struct {
	dec *msgpack.Decoder
	s   strings.Reader
}

var decoders = sync.Pool{New: func() any { return &decoder{dec: msgpack.NewDecoder(nil)} }}

// decode returns the event in member and the channels it is routed to,
// nil when it names none. It decodes as event.Unmarshal does.
func (c *codec) decode(member string) (event.Message, []string, error) {
	if len(member) < randomLen {
		return nil, nil, fmt.Errorf("redis: message of %d bytes is too short", len(member))
	}
	data := member[randomLen:]
	if c.crypt != nil {
		plain, err := c.crypt.open([]byte(data))
		if err != nil {
			return nil, nil, err
		}
		data = string(plain)
	}
	m, ok := decodeFlat(data)
	if !ok {
		if err := event.CheckLengths(data); err != nil {
			return nil, nil, fmt.Errorf("event: decode message: %w", err)
		}
		d := decoders.Get().(*decoder)
		d.s.Reset(data)
		d.dec.Reset(&d.s)
		d.dec.UsePreallocateValues(true)
		var err error
		m, err = d.dec.DecodeMap()
		d.dec.Reset(nil) // let go of the member
		d.s.Reset("")
		decoders.Put(d)
		if err != nil {
			return nil, nil, fmt.Errorf("event: decode message: %w", err)
		}
	}
	msg := event.Message(m)
	if msg.Type() == "" {
		return nil, nil, event.ErrNoType
	}
	var names []string
	switch v := msg[channelField].(type) {
	case nil:
	case string:
		names = []string{v}
	case []any:
		for _, n := range v {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	}
	delete(msg, channelField)
	return msg, names, nil
}

// decodeFlat decodes a map whose keys are strings and whose values are
// strings, numbers, booleans or nil, the shape of most events, into what
// msgpack's DecodeMap returns for it, value types included. Its strings
// share data's memory instead of being copied one by one. It reports
// false for anything else, which is left to msgpack.
func decodeFlat(data string) (map[string]any, bool) {
	b := data
	if len(b) == 0 {
		return nil, false
	}
	var n int
	switch c := b[0]; {
	case c&0xf0 == 0x80:
		n, b = int(c&0x0f), b[1:]
	case c == 0xde && len(b) >= 3:
		n, b = int(b[1])<<8|int(b[2]), b[3:]
	default:
		return nil, false
	}
	m := make(map[string]any, n)
	for range n {
		k, rest, ok := strAt(b)
		if !ok {
			return nil, false
		}
		var v any
		if v, b, ok = scalarAt(rest); !ok {
			return nil, false
		}
		m[k] = v
	}
	return m, true
}

// strAt reads one MessagePack string from the start of b, which is the
// member as a string (decoding, where the result points into the member)
// or as bytes (scanning keys while encoding).
func strAt[T string | []byte](b T) (s, rest T, ok bool) {
	if len(b) == 0 {
		return s, rest, false
	}
	var n, h int
	switch c := b[0]; {
	case c&0xe0 == 0xa0:
		n, h = int(c&0x1f), 1
	case c == 0xd9 && len(b) >= 2:
		n, h = int(b[1]), 2
	case c == 0xda && len(b) >= 3:
		n, h = int(b[1])<<8|int(b[2]), 3
	case c == 0xdb && len(b) >= 5:
		n, h = int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]), 5
	default:
		return s, rest, false
	}
	if len(b)-h < n {
		return s, rest, false
	}
	return b[h : h+n], b[h+n:], true
}

// scalarAt reads one string, number, boolean or nil from the start of b,
// typed as msgpack's DecodeInterface types it.
func scalarAt(b string) (v any, rest string, ok bool) {
	if len(b) == 0 {
		return nil, "", false
	}
	c := b[0]
	if c <= 0x7f || c >= 0xe0 {
		return int8(c), b[1:], true
	}
	if c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb {
		s, rest, ok := strAt(b)
		return s, rest, ok
	}
	var w int
	switch c {
	case 0xc0, 0xc2, 0xc3:
	case 0xcc, 0xd0:
		w = 1
	case 0xcd, 0xd1:
		w = 2
	case 0xca, 0xce, 0xd2:
		w = 4
	case 0xcb, 0xcf, 0xd3:
		w = 8
	default:
		return nil, "", false
	}
	if len(b) < 1+w {
		return nil, "", false
	}
	var u uint64
	for i := 1; i <= w; i++ {
		u = u<<8 | uint64(b[i])
	}
	rest = b[1+w:]
	switch c {
	case 0xc0:
		return nil, rest, true
	case 0xc2, 0xc3:
		return c == 0xc3, rest, true
	case 0xca:
		return math.Float32frombits(uint32(u)), rest, true
	case 0xcb:
		return math.Float64frombits(u), rest, true
	case 0xcc:
		return uint8(u), rest, true
	case 0xcd:
		return uint16(u), rest, true
	case 0xce:
		return uint32(u), rest, true
	case 0xcf:
		return u, rest, true
	case 0xd0:
		return int8(u), rest, true
	case 0xd1:
		return int16(u), rest, true
	case 0xd2:
		return int32(u), rest, true
	}
	return int64(u), rest, true
}

// hasKey reports whether the n pairs in body have a string key equal to
// one of keys. Malformed input reports true, sending the caller down the
// generic path, which reports the error properly.
func hasKey(body []byte, n int, keys ...string) bool {
	for range n {
		k, rest, ok := strAt(body)
		if !ok {
			return true
		}
		for _, key := range keys {
			if string(k) == key {
				return true
			}
		}
		if body, ok = skip(rest); !ok {
			return true
		}
	}
	return false
}

// skip returns b after the one MessagePack value it starts with.
func skip(b []byte) ([]byte, bool) {
	for pending := 1; pending > 0; pending-- {
		if len(b) == 0 {
			return nil, false
		}
		c := b[0]
		// head is the bytes before the payload, size the payload's
		// length, and items the values nested in it.
		var head, size, items int
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
			head = 1
		case c <= 0x8f:
			head, items = 1, 2*int(c&0x0f)
		case c <= 0x9f:
			head, items = 1, int(c&0x0f)
		case c <= 0xbf:
			head, size = 1, int(c&0x1f)
		case c == 0xcc || c == 0xd0:
			head = 2
		case c == 0xcd || c == 0xd1:
			head = 3
		case c == 0xca || c == 0xce || c == 0xd2:
			head = 5
		case c == 0xcb || c == 0xcf || c == 0xd3:
			head = 9
		case c >= 0xd4 && c <= 0xd8: // fixext: type byte and 1 to 16 bytes
			head = 2 + 1<<(c-0xd4)
		default:
			var w int // width of the length that follows c
			switch c {
			case 0xc4, 0xc7, 0xd9:
				w = 1
			case 0xc5, 0xc8, 0xda, 0xdc, 0xde:
				w = 2
			case 0xc6, 0xc9, 0xdb, 0xdd, 0xdf:
				w = 4
			default: // 0xc1, never used
				return nil, false
			}
			if len(b) < 1+w {
				return nil, false
			}
			var l int
			switch w {
			case 1:
				l = int(b[1])
			case 2:
				l = int(binary.BigEndian.Uint16(b[1:]))
			default:
				l = int(binary.BigEndian.Uint32(b[1:]))
			}
			head = 1 + w
			switch c {
			case 0xdc, 0xdd:
				items = l
			case 0xde, 0xdf:
				items = 2 * l
			case 0xc7, 0xc8, 0xc9: // ext: a type byte, then the data
				head, size = head+1, l
			default:
				size = l
			}
		}
		if len(b) < head+size {
			return nil, false
		}
		b = b[head+size:]
		pending += items
	}
	return b, true
}

func putRandom(b []byte) {
	binary.LittleEndian.PutUint64(b, rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
}

// splitMap returns the pair count and the pairs of a MessagePack map.
func splitMap(b []byte) (int, []byte, error) {
	switch {
	case len(b) >= 1 && b[0]&0xf0 == 0x80:
		return int(b[0] & 0x0f), b[1:], nil
	case len(b) >= 3 && b[0] == 0xde:
		return int(binary.BigEndian.Uint16(b[1:])), b[3:], nil
	case len(b) >= 5 && b[0] == 0xdf:
		return int(binary.BigEndian.Uint32(b[1:])), b[5:], nil
	}
	return 0, nil, errors.New("redis: event did not encode as a map")
}

func appendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 1<<8:
		b = append(b, 0xd9, byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func appendStrArray(b []byte, names []string) []byte {
	switch n := len(names); {
	case n < 16:
		b = append(b, 0x90|byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
	}
	for _, s := range names {
		b = appendStr(b, s)
	}
	return b
}

// clock hands out message scores: Unix time in microseconds, as
// channels_redis' time.time() gives seconds with a fraction. The scores
// one process hands out only increase, even when the wall clock steps
// back or two sends fall in one microsecond, so that a process's sends to
// a channel keep their order in the sorted set.
type clock struct {
	last atomic.Int64
}

func (c *clock) now() int64 {
	t := time.Now().UnixMicro()
	for {
		last := c.last.Load()
		if t <= last {
			t = last + 1
		}
		if c.last.CompareAndSwap(last, t) {
			return t
		}
	}
}

// score renders microseconds as the seconds Redis stores.
func score(us int64) string {
	return strconv.FormatFloat(float64(us)/1e6, 'f', 6, 64)
}
