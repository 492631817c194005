package timer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrNoTimers is returned by After, At and Cancel in a scope that no
// Middleware gave a store.
var ErrNoTimers = errors.New("timer: no timer store on the scope (timer.Middleware)")

// Timer is one scheduled event.
type Timer struct {
	// Adapter and Key are the conversation's: the adapter whose scope
	// manager serves it and its key there.
	Adapter, Key string
	// Name tells the timer from the conversation's others.
	Name string
	// At is when it is due.
	At time.Time
	// Event is what the conversation's instance gets when it is due. After
	// a Store it is an event.Message of the same type and fields, which
	// consumer handlers decode like any layer message.
	Event event.Event
	// Scope holds the facts to start the conversation's scope again with,
	// when it has none at delivery.
	Scope Facts
}

// Facts are the parts of a chat scope that a timer keeps to start it again:
// the protocol, the adapter, the conversation and who is in it.
type Facts struct {
	Type    string     `msgpack:"type"`
	Adapter string     `msgpack:"adapter"`
	Key     string     `msgpack:"key"`
	User    scope.User `msgpack:"user"`
	Bot     scope.User `msgpack:"bot"`
	Chat    scope.Chat `msgpack:"chat"`
	Thread  string     `msgpack:"thread,omitempty"`
	Team    string     `msgpack:"team,omitempty"`
}

// FactsOf returns the facts of s.
func FactsOf(s *scope.Scope) Facts {
	return Facts{Type: s.Type, Adapter: s.Adapter, Key: s.Key, User: s.User, Bot: s.Bot, Chat: s.Chat, Thread: s.Thread, Team: s.Team}
}

// NewScope returns a new scope of f.
func (f Facts) NewScope() *scope.Scope {
	return &scope.Scope{Type: f.Type, Adapter: f.Adapter, Key: f.Key, User: f.User, Bot: f.Bot, Chat: f.Chat, Thread: f.Thread, Team: f.Team}
}

// Claim is a due timer handed to one runner, until it acknowledges it or
// its lease runs out.
type Claim struct {
	Timer
	// Token identifies this claim of the timer to the Store's Ack.
	Token int64
}

// Store keeps pending timers. All methods are safe for concurrent use,
// from one process or many sharing the backend.
type Store interface {
	// Schedule stores timers, each replacing the pending timer of the same
	// adapter, key and name (a claimed one included).
	Schedule(ctx context.Context, timers ...Timer) error
	// Cancel removes the pending timer of adapter, key and name, and
	// reports whether there was one.
	Cancel(ctx context.Context, adapter, key, name string) (bool, error)
	// Claim hands out up to max timers of adapter that are due at now, the
	// earliest first. Each stays claimed for lease: no other Claim gets it
	// until then, and after that, if not acknowledged, it is due again.
	Claim(ctx context.Context, adapter string, now time.Time, max int, lease time.Duration) ([]Claim, error)
	// Ack removes claimed timers for good, except those claimed again or
	// scheduled again since they were handed out.
	Ack(ctx context.Context, claims ...Claim) error
}

// record is a timer as stored.
type record struct {
	Adapter string `msgpack:"a"`
	Key     string `msgpack:"k"`
	Name    string `msgpack:"n"`
	At      int64  `msgpack:"t"` // Unix milliseconds
	Event   []byte `msgpack:"e"` // event.Marshal
	Scope   Facts  `msgpack:"s"`
}

// Encode returns t as a Store keeps it.
func Encode(t Timer) ([]byte, error) {
	ev, err := event.Marshal(t.Event)
	if err != nil {
		return nil, fmt.Errorf("timer %q: %w", t.Name, err)
	}
	return msgpack.Marshal(record{Adapter: t.Adapter, Key: t.Key, Name: t.Name, At: Millis(t.At), Event: ev, Scope: t.Scope})
}

// Decode returns the timer Encode made data of.
func Decode(data []byte) (Timer, error) {
	var r record
	if err := msgpack.Unmarshal(data, &r); err != nil {
		return Timer{}, fmt.Errorf("timer: decode: %w", err)
	}
	ev, err := event.Unmarshal(r.Event)
	if err != nil {
		return Timer{}, fmt.Errorf("timer %q: %w", r.Name, err)
	}
	return Timer{Adapter: r.Adapter, Key: r.Key, Name: r.Name, At: time.UnixMilli(r.At), Event: ev, Scope: r.Scope}, nil
}

// Millis returns t in Unix milliseconds, rounded up, so that a store
// counting in milliseconds never finds a timer due before its time.
func Millis(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// ID is the identity of a timer among its adapter's: its key and name.
func ID(key, name string) string { return key + "\x00" + name }
