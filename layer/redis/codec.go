package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

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
	if m, ok := ev.(event.Message); ok {
		if _, ok := m[channelField]; ok {
			return encoded{}, errReserved
		}
	}
	data, err := event.Marshal(ev)
	if err != nil {
		return encoded{}, err
	}
	n, body, err := splitMap(data)
	if err != nil {
		return encoded{}, err
	}
	return encoded{n: n, body: body}, nil
}

// member returns the set member for e sent to the channels names, which
// share one key: with no routing field when names is nil, a string for
// one name from Send, a list from a group send.
func (c *codec) member(e encoded, names []string, list bool) ([]byte, error) {
	var plain []byte
	if names == nil {
		plain = appendMapHeader(make([]byte, 0, 5+len(e.body)), e.n)
		plain = append(plain, e.body...)
	} else {
		plain = appendMapHeader(make([]byte, 0, 5+len(e.body)+len(channelField)+2+len(names)*40), e.n+1)
		plain = append(plain, e.body...)
		plain = appendStr(plain, channelField)
		if list {
			plain = appendStrArray(plain, names)
		} else {
			plain = appendStr(plain, names[0])
		}
	}
	out := make([]byte, randomLen, randomLen+len(plain)+cryptOverhead)
	putRandom(out)
	if c.crypt == nil {
		return append(out, plain...), nil
	}
	return c.crypt.seal(out, plain), nil
}

// decode returns the event in member and the channels it is routed to,
// nil when it names none.
func (c *codec) decode(member []byte) (event.Message, []string, error) {
	if len(member) < randomLen {
		return nil, nil, fmt.Errorf("redis: message of %d bytes is too short", len(member))
	}
	data := member[randomLen:]
	if c.crypt != nil {
		var err error
		if data, err = c.crypt.open(data); err != nil {
			return nil, nil, err
		}
	}
	msg, err := event.Unmarshal(data)
	if err != nil {
		return nil, nil, err
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
