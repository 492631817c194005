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

// record is what the Host's journal keeps of ev.
func (in *Intake) record(key string, ev event.Event, newScope func() *scope.Scope) Record {
	s := newScope()
	s.Key = key
	r := Record{Adapter: in.h.Name(), Key: key, Scope: s, Event: ev}
	if u, ok := ev.(Unique); ok {
		r.ID = u.UniqueID()
	}
	return r
}

// append appends ev to the Host's journal and acknowledges it; it reports
// false, having done nothing, when ev must be served here.
func (in *Intake) append(ctx context.Context, key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) (bool, error) {
	err := in.h.opts.journal.Append(ctx, in.record(key, ev, newScope))
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

// BatchJournal is implemented by Journals that append several records in
// one go, such as in one round trip (package cluster's): TryDeliver's
// background appends reach the journal through it, a batch at a time,
// rather than a call per event.
type BatchJournal interface {
	Journal
	// AppendBatch appends rs as Append appends each, in the order of rs,
	// and sets errs[i] (len(errs) == len(rs)) to what Append would have
	// returned for rs[i]. It returns once every record's outcome is
	// known, or when ctx ends (then the records not known to be appended
	// fail with ctx's error, and may be appended all the same).
	AppendBatch(ctx context.Context, rs []Record, errs []error)
}

// maxAppendBatch bounds the events one background append carries, so that
// a backlog goes to the journal in steps.
const maxAppendBatch = 512

// appender appends TryDeliver's events in the background. One goroutine
// at a time drains its queue, a batch per journal call, so that the events
// a poller takes together share a round trip and a goroutine rather than
// take one each. A batch starts once the one before it is done, and a
// BatchJournal appends a batch in its order: each conversation's events
// are appended, and acknowledged, in the order they were given.
type appender struct {
	mu      sync.Mutex
	queue   []queued // guarded by mu
	spare   []queued // the last batch's slice, for the next queue; guarded by mu
	running bool     // a goroutine drains queue; guarded by mu

	// The draining goroutine's own: reused from batch to batch.
	recs []Record
	errs []error

	local chains // the events that cannot travel, served here
}

// queued is one event TryDeliver queued for the journal.
type queued struct {
	key      string
	ev       event.Event
	newScope func() *scope.Scope
	ack      scope.Ack
}

// appendLater queues ev for the journal and returns at once; the ack says
// how it went. An event that cannot travel is delivered here, as
// TryDeliver would.
func (in *Intake) appendLater(key string, ev event.Event, newScope func() *scope.Scope, ack scope.Ack) {
	a := &in.appends
	a.mu.Lock()
	a.queue = append(a.queue, queued{key: key, ev: ev, newScope: newScope, ack: ack})
	start := !a.running
	a.running = true
	a.mu.Unlock()
	if start {
		go in.drainAppends()
	}
}

// drainAppends appends the queued events, a batch at a time, until the
// queue is empty.
func (in *Intake) drainAppends() {
	a := &in.appends
	for {
		a.mu.Lock()
		batch, part := a.queue, len(a.queue) > maxAppendBatch
		if part {
			batch = batch[:maxAppendBatch:maxAppendBatch]
			a.queue = a.queue[maxAppendBatch:]
		} else {
			a.queue, a.spare = a.spare[:0], nil
		}
		if len(batch) == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		in.appendBatch(batch)
		clear(batch) // the events are the journal's now
		if !part {   // a part of a backlog's slice is not the drainer's to reuse
			a.mu.Lock()
			a.spare = batch
			a.mu.Unlock()
		}
	}
}

// appendBatch appends batch, through one AppendBatch when the journal
// batches, else an Append per event: each conversation's in turn, the
// conversations at once.
func (in *Intake) appendBatch(batch []queued) {
	a := &in.appends
	ctx := in.grace
	recs := a.recs[:0]
	for _, q := range batch {
		recs = append(recs, in.record(q.key, q.ev, q.newScope))
	}
	if cap(a.errs) < len(batch) {
		a.errs = make([]error, len(batch))
	}
	errs := a.errs[:len(batch)]
	if bj, ok := in.h.opts.journal.(BatchJournal); ok {
		bj.AppendBatch(ctx, recs, errs)
		for i, q := range batch {
			in.appended(q, errs[i])
		}
	} else {
		var wg sync.WaitGroup
		for _, idx := range byKey(batch) {
			wg.Go(func() {
				for _, i := range idx {
					in.appended(batch[i], in.h.opts.journal.Append(ctx, recs[i]))
				}
			})
		}
		wg.Wait()
	}
	clear(recs)
	clear(errs)
	a.recs, a.errs = recs, errs
}

// byKey returns the indexes of batch's events, grouped by conversation,
// each group in batch's order.
func byKey(batch []queued) [][]int {
	at := make(map[string]int, len(batch))
	var out [][]int
	for i, q := range batch {
		g, ok := at[q.key]
		if !ok {
			g = len(out)
			at[q.key] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], i)
	}
	return out
}

// appended settles q once the journal told err: acknowledged when
// appended, served here when it cannot travel, else not acknowledged.
func (in *Intake) appended(q queued, err error) {
	switch {
	case errors.Is(err, ErrNotDurable):
		in.deliverLater(q)
	case err != nil:
		if q.ack != nil {
			q.ack(fmt.Errorf("%w: %w", scope.ErrNotHandled, err))
		}
	case q.ack != nil:
		q.ack(nil)
	}
}

// chains orders the local deliveries of each conversation's events that
// cannot travel: one starts once the previous one of its conversation is
// done.
type chains struct {
	mu   sync.Mutex
	tail map[string]chan struct{} // the last delivery of each conversation under way
}

// deliverLater delivers q here in the background, waiting for room in its
// conversation's inbox as the adapter would have, after the deliveries of
// its conversation already under way.
func (in *Intake) deliverLater(q queued) {
	c := &in.appends.local
	c.mu.Lock()
	if c.tail == nil {
		c.tail = map[string]chan struct{}{}
	}
	prev, done := c.tail[q.key], make(chan struct{})
	c.tail[q.key] = done
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			if c.tail[q.key] == done {
				delete(c.tail, q.key)
			}
			c.mu.Unlock()
			close(done)
		}()
		if prev != nil {
			<-prev
		}
		err := in.m.DeliverAck(in.grace, q.key, q.ev, q.newScope, q.ack)
		if err != nil && q.ack != nil {
			q.ack(fmt.Errorf("%w: %w", scope.ErrNotHandled, err))
		}
	}()
}
