package cluster

import (
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
	sc, err := msgpack.Marshal(&f)
	if err != nil {
		return nil, fmt.Errorf("%w: scope %s: %w", adapters.ErrNotDurable, r.Scope, err)
	}
	ev, err := event.Marshal(r.Event)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", adapters.ErrNotDurable, err)
	}
	fields := []any{fieldAdapter, r.Adapter, fieldKey, r.Key, fieldScope, sc, fieldEvent, ev}
	if r.ID != "" {
		fields = append(fields, fieldID, r.ID)
	}
	return fields, nil
}

// entry is a stream entry as an owner reads it.
type entry struct {
	id, adapter, key string
	platformID       string
	facts            facts
	ev               event.Message
}

// decode reads a stream entry.
func decode(id string, values map[string]any) (entry, error) {
	e := entry{id: id}
	str := func(k string) string { s, _ := values[k].(string); return s }
	e.adapter, e.key, e.platformID = str(fieldAdapter), str(fieldKey), str(fieldID)
	if e.adapter == "" {
		return e, fmt.Errorf("cluster: entry %s has no adapter", id)
	}
	if err := msgpack.Unmarshal([]byte(str(fieldScope)), &e.facts); err != nil {
		return e, fmt.Errorf("cluster: entry %s: scope: %w", id, err)
	}
	ev, err := event.Unmarshal([]byte(str(fieldEvent)))
	if err != nil {
		return e, fmt.Errorf("cluster: entry %s: %w", id, err)
	}
	e.ev = ev
	return e, nil
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
