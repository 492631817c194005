package adapters

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Journal is a durable intake shared by the processes of a cluster: with
// one (WithJournal), Intake.Deliver appends each inbound event to it and
// tells the adapter the event is safe to acknowledge once it is appended,
// and whichever process owns the event's conversation hands it to its own
// Host's scope manager (the Sink the Host attached). Package cluster has
// the one on Redis.
type Journal interface {
	// Append records r durably. Once it returns nil, r will be handled by
	// the owner of its conversation at least once, or was seen already
	// (a duplicate of r's Unique id). It fails with ErrNotDurable when r
	// cannot travel to another process: the Host then serves r itself.
	Append(ctx context.Context, r Record) error
	// Attach starts handing the records of adapter to s, in each
	// conversation's order, until detach is called. detach stops the
	// handing over, waits until ctx ends for the records given to s to
	// be handled, and gives the conversations up to other processes.
	Attach(adapter string, s Sink) (detach func(ctx context.Context))
}

// Record is one inbound event as a Journal keeps it.
type Record struct {
	// Adapter is the name of the adapter that took the event.
	Adapter string
	// Key is the conversation key; Scope is what the adapter's newScope
	// built for it, with Key set.
	Key   string
	Scope *scope.Scope
	// Event is the inbound event.
	Event event.Event
	// ID is the platform's own id of the event (Unique), or "".
	ID string
}

// Sink is what a Host gives a Journal: its scope manager, and the adapter's
// way of reading its events back.
type Sink interface {
	// Deliver hands ev to the conversation key, as Intake.Deliver does in
	// one process; ack is told once its handler returned.
	Deliver(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error
	// Decode turns an event read back from the journal into the type the
	// adapter made (InboundDecoder), or returns it as it is.
	Decode(m event.Message) (event.Event, error)
	// Moved ends, with ReasonMoved, the live scopes whose key match
	// accepts: their conversations are served by another process from now
	// on. Scopes the journal never carries (an adapter that is not an
	// InboundDecoder, connection-bound scopes) stay. match must be quick
	// (see scope.Manager.EndWhere).
	Moved(match func(key string) bool)
}

// ErrNotDurable is returned by Journal.Append for a record that cannot
// travel to another process, such as one whose scope holds an adapter
// value that is not a plain value: the Host serves it in this process.
var ErrNotDurable = errors.New("adapters: record cannot be journaled")

// ReasonMoved ends a scope whose conversation moved to another process of
// the cluster.
const ReasonMoved scope.Reason = "moved"

// Unique is implemented by inbound events that carry the platform's own id
// (Telegram's update_id, Slack's event_id). A Journal drops an event whose
// id it has seen lately, whichever process received it, so that a
// platform's retry that lands on another process is handled once.
type Unique interface {
	UniqueID() string
}

// InboundDecoder is implemented by adapters whose inbound events may be
// served by another process: DecodeInbound turns the generic form of one
// of its events back into the type it made, so that bots see the same
// types (event.ChatMessage, ...) wherever the event was taken. It is how an
// adapter opts in to a Journal: the events of an adapter without it (a
// terminal, a worker's layer channels) are served by the process that
// took them.
type InboundDecoder interface {
	DecodeInbound(m event.Message) (event.Event, error)
}

// InboundRawDecoder is implemented by InboundDecoders that can also turn
// an inbound event of theirs from its encoded form (event.Marshal's) into
// its type in one pass, as event.UnmarshalAs does, without the generic
// Message between: a Journal's owner reads every event back that way.
// DecodeInboundRaw reports false for a type it does not decode so; the
// event then goes through DecodeInbound.
type InboundRawDecoder interface {
	DecodeInboundRaw(typ string, data []byte) (ev event.Event, ok bool, err error)
}

// RawDecoder is implemented by the Sinks that read events straight from
// their encoded form: DecodeRaw turns data, an event of type typ in
// event.Marshal's form, into the type the adapter made, reporting false
// when it cannot (the Journal then decodes a Message and calls Decode).
type RawDecoder interface {
	DecodeRaw(typ string, data []byte) (ev event.Event, ok bool, err error)
}

// WithJournal makes the Host's intake durable on j (see Journal), if its
// adapter is an InboundDecoder, for every conversation except
// connection-bound ones: scopes of an adapter whose ScopeConfig sets
// NoEvict, and events given to DeliverInline, stay in the process that
// holds the connection. Default: none (events are acknowledged once
// handled in this process).
func WithJournal(j Journal) HostOption { return func(o *hostOptions) { o.journal = j } }

// hostSink is a Host's Sink.
type hostSink struct {
	h *Host
	m *scope.Manager
}

var (
	_ Sink       = hostSink{}
	_ RawDecoder = hostSink{}
)

func (s hostSink) Deliver(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) error {
	return s.m.DeliverAck(ctx, key, ev, newScope, ack)
}

func (s hostSink) Decode(m event.Message) (event.Event, error) {
	if d, ok := s.h.a.(InboundDecoder); ok {
		return d.DecodeInbound(m)
	}
	return m, nil
}

func (s hostSink) DecodeRaw(typ string, data []byte) (event.Event, bool, error) {
	if d, ok := s.h.a.(InboundRawDecoder); ok {
		return d.DecodeInboundRaw(typ, data)
	}
	return nil, false, nil
}

func (s hostSink) Moved(match func(key string) bool) {
	if _, portable := s.h.a.(InboundDecoder); !portable || s.h.opts.scopes.NoEvict {
		// Its conversations are not journaled: they stay with the
		// process that holds them (a WebSocket's connection).
		return
	}
	s.m.EndWhere(match, func(sc *scope.Scope) scope.Final { return protocol{s.h}.Disconnect(sc, ReasonMoved) })
}

// journaled reports whether the intake appends to a journal.
func (in *Intake) journaled() bool {
	_, portable := in.h.a.(InboundDecoder)
	return in.h.opts.journal != nil && portable && !in.h.opts.scopes.NoEvict
}

// append appends ev to the Host's journal and acknowledges it; it reports
// false, having done nothing, when ev must be served here.
func (in *Intake) append(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) (bool, error) {
	s := newScope()
	s.Key = key
	r := Record{Adapter: in.h.Name(), Key: key, Scope: s, Event: ev}
	if u, ok := ev.(Unique); ok {
		r.ID = u.UniqueID()
	}
	err := in.h.opts.journal.Append(ctx, r)
	switch {
	case errors.Is(err, ErrNotDurable):
		return false, nil
	case err != nil:
		return true, err
	}
	if ack != nil {
		ack(nil)
	}
	return true, nil
}

// chains orders the background appends of each conversation: an append
// starts once the previous one of its conversation is done.
type chains struct {
	mu   sync.Mutex
	tail map[string]chan struct{} // the last append of each conversation under way
}

// appendLater appends ev in the background, after the appends of its
// conversation already under way, and tells ack how it went; an event
// that cannot travel is delivered here, as TryDeliver would.
func (in *Intake) appendLater(key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) {
	c := &in.chains
	c.mu.Lock()
	if c.tail == nil {
		c.tail = map[string]chan struct{}{}
	}
	prev, done := c.tail[key], make(chan struct{})
	c.tail[key] = done
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			if c.tail[key] == done {
				delete(c.tail, key)
			}
			c.mu.Unlock()
			close(done)
		}()
		if prev != nil {
			<-prev
		}
		journaled, err := in.append(in.grace, key, ev, newScope, ack)
		if !journaled {
			// Served here: wait for room, as the adapter would have.
			err = in.m.DeliverAck(in.grace, key, ev, newScope, ack)
		}
		if err != nil && ack != nil {
			ack(fmt.Errorf("%w: %w", scope.ErrNotHandled, err))
		}
	}()
}
