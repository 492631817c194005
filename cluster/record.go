package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// The fields of a stream entry.
const (
	fieldAdapter = "a" // the adapter's name
	fieldKey     = "k" // the conversation key
	fieldScope   = "s" // the scope's facts, MessagePack
	fieldEvent   = "e" // the event, event.Marshal
	fieldType    = "t" // the event's type, so that the owner may decode it in one pass
	fieldID      = "i" // the platform's id of the event, if any
)

// facts are the public facts of a scope.Scope, and the adapter's own value
// when it is a plain one: what a Scope is rebuilt from in the owner.
type facts struct {
	Type         string              `msgpack:"t"`
	Adapter      string              `msgpack:"a,omitempty"`
	User         scope.User          `msgpack:"u,omitempty"`
	Bot          scope.User          `msgpack:"b,omitempty"`
	Chat         scope.Chat          `msgpack:"c,omitempty"`
	Thread       string              `msgpack:"th,omitempty"`
	Team         string              `msgpack:"tm,omitempty"`
	Channel      string              `msgpack:"ch,omitempty"`
	Path         string              `msgpack:"p,omitempty"`
	RawQuery     string              `msgpack:"q,omitempty"`
	Method       string              `msgpack:"m,omitempty"`
	Headers      map[string][]string `msgpack:"h,omitempty"`
	Subprotocols []string            `msgpack:"sp,omitempty"`
	ClientAddr   string              `msgpack:"ca,omitempty"`
	ServerAddr   string              `msgpack:"sa,omitempty"`
	Value        any                 `msgpack:"v,omitempty"`
}

var _ msgpack.CustomEncoder = facts{}

// EncodeMsgpack writes f as appendFacts does.
func (f facts) EncodeMsgpack(enc *msgpack.Encoder) error {
	b, err := appendFacts(nil, f)
	if err != nil {
		return err
	}
	_, err = enc.Writer().Write(b)
	return err
}

// appendFacts appends f to b as the struct's tags say, leaving the empty
// fields out: the same map msgpack's struct encoder writes, which it
// reads back into a facts. It writes the strings itself, without the
// reflection and the writer of msgpack's encoder, which an append pays
// for each entry; only the rare fields of other types (headers,
// subprotocols, the adapter's value) go through msgpack.
func appendFacts(b []byte, f facts) ([]byte, error) {
	strs := [...]struct{ key, v string }{{"t", f.Type}, {"a", f.Adapter}, {"th", f.Thread}, {"tm", f.Team},
		{"ch", f.Channel}, {"p", f.Path}, {"q", f.RawQuery}, {"m", f.Method}, {"ca", f.ClientAddr}, {"sa", f.ServerAddr}}
	n := 0
	for i, s := range strs {
		if s.v != "" || i == 0 { // the type is always written, as its tag has no omitempty
			n++
		}
	}
	for _, u := range [...]scope.User{f.User, f.Bot} {
		if u != (scope.User{}) {
			n++
		}
	}
	if f.Chat != (scope.Chat{}) {
		n++
	}
	hasH, hasSP, hasV := len(f.Headers) > 0, len(f.Subprotocols) > 0, f.Value != nil
	for _, set := range [...]bool{hasH, hasSP, hasV} {
		if set {
			n++
		}
	}
	b = appendMapHeader(b, n)
	for i, s := range strs {
		if s.v != "" || i == 0 {
			b = appendString(appendString(b, s.key), s.v)
		}
	}
	for _, u := range [...]struct {
		key string
		u   scope.User
	}{{"u", f.User}, {"b", f.Bot}} {
		if u.u != (scope.User{}) {
			b = appendMapHeader(appendString(b, u.key), 4)
			b = appendString(appendString(b, "ID"), u.u.ID)
			b = appendString(appendString(b, "Name"), u.u.Name)
			b = appendString(appendString(b, "Username"), u.u.Username)
			b = appendString(appendString(b, "Language"), u.u.Language)
		}
	}
	if f.Chat != (scope.Chat{}) {
		b = appendMapHeader(appendString(b, "c"), 3)
		b = appendString(appendString(b, "ID"), f.Chat.ID)
		b = appendString(appendString(b, "Type"), f.Chat.Type)
		b = appendString(appendString(b, "Title"), f.Chat.Title)
	}
	var err error
	if hasH {
		b, err = appendValue(b, "h", f.Headers)
	}
	if hasSP && err == nil {
		b, err = appendValue(b, "sp", f.Subprotocols)
	}
	if hasV && err == nil {
		b, err = appendValue(b, "v", f.Value)
	}
	return b, err
}

// appendValue appends key and v, through msgpack's encoder.
func appendValue(b []byte, key string, v any) ([]byte, error) {
	data, err := msgpack.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(appendString(b, key), data...), nil
}

// appendString appends s as msgpack's encoder writes a string.
func appendString(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 256:
		b = append(b, 0xd9, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// parseFacts reads, from data, facts that appendFacts wrote: a map whose
// values are strings, or maps of strings for the user, the bot and the
// chat. The strings it returns share data's memory, so an owner reads an
// entry's scope with no allocation but the Scope's. It reports false for
// anything else (headers, subprotocols, an adapter value, a form it does
// not know): msgpack's decoder reads those.
func parseFacts(data string) (f facts, ok bool) {
	r := msgReader{s: data}
	n, ok := r.mapLen()
	for i := 0; ok && i < n; i++ {
		var k string
		if k, ok = r.str(); !ok {
			break
		}
		switch k {
		case "u":
			ok = r.user(&f.User)
		case "b":
			ok = r.user(&f.Bot)
		case "c":
			ok = r.fields(func(k string) *string {
				switch k {
				case "ID":
					return &f.Chat.ID
				case "Type":
					return &f.Chat.Type
				case "Title":
					return &f.Chat.Title
				}
				return nil
			})
		default:
			p := f.str(k)
			if ok = p != nil; ok {
				*p, ok = r.str()
			}
		}
	}
	return f, ok && r.s == ""
}

// str returns the string field of f under key k, or nil.
func (f *facts) str(k string) *string {
	switch k {
	case "t":
		return &f.Type
	case "a":
		return &f.Adapter
	case "th":
		return &f.Thread
	case "tm":
		return &f.Team
	case "ch":
		return &f.Channel
	case "p":
		return &f.Path
	case "q":
		return &f.RawQuery
	case "m":
		return &f.Method
	case "ca":
		return &f.ClientAddr
	case "sa":
		return &f.ServerAddr
	}
	return nil
}

// msgReader reads the MessagePack maps and strings facts are made of.
type msgReader struct{ s string }

// mapLen reads a map's header.
func (r *msgReader) mapLen() (int, bool) {
	if n, size, ok := mapHeader([]byte(r.s[:min(len(r.s), 5)])); ok {
		r.s = r.s[size:]
		return n, true
	}
	return 0, false
}

// str reads a string, or nil as "".
func (r *msgReader) str() (string, bool) {
	if r.s == "" {
		return "", false
	}
	c, n, head := r.s[0], 0, 1
	switch {
	case c&0xe0 == 0xa0:
		n = int(c & 0x1f)
	case c == 0xc0:
		r.s = r.s[1:]
		return "", true
	case c == 0xd9 && len(r.s) >= 2:
		n, head = int(r.s[1]), 2
	case c == 0xda && len(r.s) >= 3:
		n, head = int(r.s[1])<<8|int(r.s[2]), 3
	case c == 0xdb && len(r.s) >= 5:
		n, head = int(binary.BigEndian.Uint32([]byte(r.s[1:5]))), 5
	default:
		return "", false
	}
	if len(r.s)-head < n {
		return "", false
	}
	v := r.s[head : head+n]
	r.s = r.s[head+n:]
	return v, true
}

// fields reads a map of strings into the fields that field returns for
// their keys. A key field has no field for fails the read: msgpack's
// decoder then reads the whole, as it skips what facts do not know.
func (r *msgReader) fields(field func(k string) *string) bool {
	n, ok := r.mapLen()
	for i := 0; ok && i < n; i++ {
		var k string
		if k, ok = r.str(); ok {
			p := field(k)
			if ok = p != nil; ok {
				*p, ok = r.str()
			}
		}
	}
	return ok
}

// user reads a scope.User.
func (r *msgReader) user(u *scope.User) bool {
	return r.fields(func(k string) *string { return userField(u, k) })
}

// userField returns the field of u under key k (msgpack's name for it),
// or nil.
func userField(u *scope.User, k string) *string {
	switch k {
	case "ID":
		return &u.ID
	case "Name":
		return &u.Name
	case "Username":
		return &u.Username
	case "Language":
		return &u.Language
	}
	return nil
}

// errValue: the scope's adapter value is not a plain value.
var errValue = errors.New("its adapter value is not a plain value")

// factsOf returns the facts of s, failing with errValue when its adapter
// value cannot travel.
func factsOf(s *scope.Scope) (facts, error) {
	f := facts{Type: s.Type, Adapter: s.Adapter, User: s.User, Bot: s.Bot, Chat: s.Chat,
		Thread: s.Thread, Team: s.Team, Channel: s.Channel, Path: s.Path, RawQuery: s.RawQuery,
		Method: s.Method, Headers: s.Headers, Subprotocols: s.Subprotocols,
		ClientAddr: s.ClientAddr, ServerAddr: s.ServerAddr}
	switch v := s.AdapterValue().(type) {
	case nil, string, []byte, bool, int64, float64:
		f.Value = v
	default:
		return facts{}, errValue
	}
	return f, nil
}

// scope rebuilds the Scope of f for key.
func (f facts) scope(key string) *scope.Scope {
	s := &scope.Scope{Type: f.Type, Adapter: f.Adapter, Key: key, User: f.User, Bot: f.Bot,
		Chat: f.Chat, Thread: f.Thread, Team: f.Team, Channel: f.Channel, Path: f.Path,
		RawQuery: f.RawQuery, Method: f.Method, Headers: f.Headers, Subprotocols: f.Subprotocols,
		ClientAddr: f.ClientAddr, ServerAddr: f.ServerAddr}
	switch v := f.Value.(type) {
	case nil:
	case int8, int16, int32, uint8, uint16, uint32, uint64:
		// MessagePack packs an int64 as small as it fits.
		s.SetAdapterValue(toInt64(v))
	default:
		s.SetAdapterValue(v)
	}
	return s
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return int64(n)
	}
	return 0
}

// encode returns the fields of r's entry, as XADD takes them.
func encode(r adapters.Record) ([]any, error) {
	f, err := factsOf(r.Scope)
	if err != nil {
		return nil, fmt.Errorf("%w: scope %s: %w", adapters.ErrNotDurable, r.Scope, err)
	}
	sc, err := appendFacts(make([]byte, 0, 128), f)
	if err != nil {
		return nil, fmt.Errorf("%w: scope %s: %w", adapters.ErrNotDurable, r.Scope, err)
	}
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	var buf bytes.Buffer
	ev, err := marshalEvent(enc, &buf, r.Event)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", adapters.ErrNotDurable, err)
	}
	fields := []any{fieldAdapter, r.Adapter, fieldKey, r.Key, fieldScope, sc, fieldEvent, ev, fieldType, r.Event.Type()}
	if r.ID != "" {
		fields = append(fields, fieldID, r.ID)
	}
	return fields, nil
}

// marshalEvent returns ev in the form event.Marshal gives it: a map of
// its fields by their msgpack tags, and its type under "type". For a
// struct it encodes ev once and adds "type" to the map, where
// event.Marshal goes through a generic Message (encoding, decoding and
// encoding again); the keys are not sorted, which nothing reading an
// entry needs. What does not come out as a map that event.Unmarshal reads
// goes through event.Marshal, for its errors.
func marshalEvent(enc *msgpack.Encoder, buf *bytes.Buffer, ev event.Event) ([]byte, error) {
	if _, ok := ev.(event.Message); ok || ev == nil {
		return event.Marshal(ev)
	}
	buf.Reset()
	enc.Reset(buf)
	if err := enc.Encode(ev); err != nil {
		return event.Marshal(ev)
	}
	data := buf.Bytes()
	n, head, ok := mapHeader(data)
	if !ok {
		return event.Marshal(ev)
	}
	// The fields, then "type", which wins over a field of that name as
	// it does in event.ToMessage.
	tail := len(data)
	if err := enc.EncodeString("type"); err != nil {
		return nil, err
	}
	if err := enc.EncodeString(ev.Type()); err != nil {
		return nil, err
	}
	data = buf.Bytes()
	out := make([]byte, 0, 5+len(data)-head)
	out = appendMapHeader(out, n+1)
	out = append(out, data[head:tail]...)
	out = append(out, data[tail:]...)
	if event.CheckLengths(out) != nil {
		return event.Marshal(ev)
	}
	return out, nil
}

// mapHeader reads the MessagePack map header that begins data: the
// map's length and the header's size.
func mapHeader(data []byte) (n, size int, ok bool) {
	switch {
	case len(data) == 0:
		return 0, 0, false
	case data[0]&0xf0 == 0x80:
		return int(data[0] & 0x0f), 1, true
	case data[0] == 0xde && len(data) >= 3:
		return int(binary.BigEndian.Uint16(data[1:])), 3, true
	case data[0] == 0xdf && len(data) >= 5:
		return int(binary.BigEndian.Uint32(data[1:])), 5, true
	}
	return 0, 0, false
}

// appendMapHeader appends the MessagePack header of a map of n entries.
func appendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

// entry is a stream entry as an owner reads it.
type entry struct {
	id, adapter, key string
	platformID       string
	facts            facts
	typ              string // the event's type; "" in entries from before it travelled
	ev               []byte // the event, event.Marshal
}

// rawEntry is a stream entry as Redis gives it: its id, and its fields
// and values in turn.
type rawEntry struct {
	ID     string
	fields []any
}

// value returns the value of field k, or nil. An entry has a handful of
// fields: a scan costs less than a map.
func (m rawEntry) value(k string) any {
	for i := 0; i+1 < len(m.fields); i += 2 {
		if f, _ := m.fields[i].(string); f == k {
			return m.fields[i+1]
		}
	}
	return nil
}

// decode reads a stream entry.
func decode(m rawEntry) (entry, error) {
	id := m.ID
	e := entry{id: id}
	str := func(k string) string { s, _ := m.value(k).(string); return s }
	e.adapter, e.key, e.platformID = str(fieldAdapter), str(fieldKey), str(fieldID)
	if e.adapter == "" {
		return e, fmt.Errorf("cluster: entry %s has no adapter", id)
	}
	sc := str(fieldScope)
	var ok bool
	if e.facts, ok = parseFacts(sc); !ok {
		if err := msgpack.Unmarshal([]byte(sc), &e.facts); err != nil {
			return e, fmt.Errorf("cluster: entry %s: scope: %w", id, err)
		}
	}
	e.typ, e.ev = str(fieldType), []byte(str(fieldEvent))
	return e, nil
}

// event turns the entry's event into the type its adapter made, through
// sink: in one pass when the sink reads the type from its encoded form
// (adapters.RawDecoder), else through a generic event.Message.
func (e entry) event(sink adapters.Sink) (event.Event, error) {
	if d, ok := sink.(adapters.RawDecoder); ok && e.typ != "" {
		ev, ok, err := d.DecodeRaw(e.typ, e.ev)
		if err != nil {
			return nil, fmt.Errorf("cluster: entry %s: %w", e.id, err)
		}
		if ok {
			return ev, nil
		}
	}
	m, err := event.Unmarshal(e.ev)
	if err != nil {
		return nil, fmt.Errorf("cluster: entry %s: %w", e.id, err)
	}
	return sink.Decode(m)
}

// MarshalScope returns the facts of s as a stream entry carries them: what
// a Scope is rebuilt from in another process or later, such as when a
// conversation channel's message finds its conversation with no live
// scope. It fails when s's adapter value is not a plain value.
func MarshalScope(s *scope.Scope) ([]byte, error) {
	f, err := factsOf(s)
	if err != nil {
		return nil, fmt.Errorf("cluster: scope %s: %w", s, err)
	}
	return msgpack.Marshal(&f)
}

// UnmarshalScope rebuilds the Scope of conversation key from data that
// MarshalScope made.
func UnmarshalScope(data []byte, key string) (*scope.Scope, error) {
	var f facts
	if err := msgpack.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("cluster: scope facts: %w", err)
	}
	return f.scope(key), nil
}

// Partition returns the partition of conversation key of adapter among n:
// the partition whose owner serves the conversation's entries.
func Partition(adapter, key string, n int) int {
	if n <= 0 {
		n = DefaultPartitions
	}
	return partitionOf(adapter, key, n)
}
