package consumer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

// Stateful is embedded in a consumer type to give it state of type S that
// outlives its scope: an idle end, an eviction, a restart, a move to
// another process. The framework loads it before each event, hands it to
// the handler (State returns it), and saves it after a handler that
// changed it, in the session store that session.Middleware put on the
// scope, under the conversation's key (session.ConversationKey, or the
// type's StateKey) and the name of S:
//
//	type Count struct{ N int }
//
//	type Counter struct {
//		consumer.Chat
//		consumer.Stateful[Count]
//	}
//
//	func (c *Counter) Message(ctx context.Context, m event.ChatMessage) error {
//		c.State().N++
//		return c.Reply(ctx, fmt.Sprintf("#%d", c.State().N))
//	}
//
// A conversation with nothing stored starts from the zero S. S is stored
// as MessagePack; its fields' msgpack tags name them, or their json tags
// when they have none, so keep the names stable as S changes.
//
// Without session.Middleware above it, the application keeps its states
// in memory (session/memory), for as long as the process runs.
//
// # Saving, once
//
// A handler that returns without error and changed the state costs one
// Save; one that did not change it costs nothing more than the load. If
// another writer saved the state since it was loaded (another process
// serving the same conversation), the save fails with session.ErrConflict
// and the framework loads the state again and runs the handler again,
// up to StateAttempts times. So that a run that is thrown away says
// nothing, the handler's Send calls (Reply, Say) are held until the state
// is saved, and go out then, in order; their errors, such as a platform's
// refusal, come back from there rather than from Send. Post and the
// channel layer are not held. A handler that returns an error saves
// nothing, and its held sends go out as they would have.
type Stateful[S any] struct {
	v     S
	saved S      // plain types: the value as last loaded or saved
	data  []byte // other types: its encoding as last loaded or saved
	box   *S     // plain types on a session.ValueStore: memory for the next save, nobody else's
}

// StateKeyer is implemented by a consumer type whose state belongs to
// something else than the conversation, such as the user, whose
// preferences then follow them from chat to chat:
//
//	func (p *Prefs) StateKey(s *scope.Scope) string { return session.UserKey(s) }
//
// The key is taken once per scope, and the name of the state type is added
// to it; an empty key (a scope with no user) falls back to the
// conversation's.
type StateKeyer interface {
	StateKey(s *scope.Scope) string
}

// StateAttempts bounds how often one event's handler runs when its save
// keeps losing to other writers; between attempts it waits a random
// while, up to twice as long each time (from 1 ms, at most 100 ms), so
// that writers in step fall out of it. The error after the last wraps
// session.ErrConflict.
const StateAttempts = 20

// State returns the scope's state, for the handler to read and change.
func (s *Stateful[S]) State() *S { return &s.v }

// stateful is the non-generic face of Stateful that Base drives.
type stateful interface {
	stateType() reflect.Type
	stateLoad(data []byte) error
	stateChanged(plain bool) ([]byte, bool, error)
	stateSaved(data []byte, plain bool)
	// For a plain state on a session.ValueStore: a copy of the state to
	// save, whether it differs from what was loaded or saved, loading a
	// saved one, and taking back a spare one for the next save.
	stateValue() any
	stateDirty() bool
	stateLoadValue(v any) error
	stateSpare(v any)
}

func (s *Stateful[S]) stateType() reflect.Type { return reflect.TypeFor[S]() }

func (s *Stateful[S]) stateLoad(data []byte) error {
	var zero S
	s.v, s.saved, s.data = zero, zero, data
	if len(data) == 0 {
		return nil
	}
	if err := decodeState(data, &s.v); err != nil {
		return err
	}
	return decodeState(data, &s.saved)
}

// stateChanged reports whether the state differs from what was last loaded
// or saved, and its encoding when it does. A plain type is compared as it
// is, so an unchanged state costs no encoding.
func (s *Stateful[S]) stateChanged(plain bool) ([]byte, bool, error) {
	if plain && any(s.v) == any(s.saved) {
		return nil, false, nil
	}
	data, err := encodeState(&s.v)
	if err != nil {
		return nil, false, err
	}
	if !plain && bytes.Equal(data, s.data) {
		return nil, false, nil
	}
	return data, true, nil
}

// stateValue returns a copy of the state for a ValueStore to keep: in
// the box the store gave back from the save before last, when it did,
// so that saving allocates nothing.
func (s *Stateful[S]) stateValue() any {
	b := s.box
	if b == nil {
		b = new(S)
	}
	s.box = nil // the store's now
	*b = s.v
	return b
}

func (s *Stateful[S]) stateSpare(v any) {
	if b, ok := v.(*S); ok {
		s.box = b
	}
}

func (s *Stateful[S]) stateDirty() bool { return any(s.v) != any(s.saved) }

// stateLoadValue loads a value a ValueStore kept: a copy when it is an
// S (stateValue saves a *S), else through its encoding (another type
// saved under the key).
func (s *Stateful[S]) stateLoadValue(v any) error {
	if sv, ok := v.(*S); ok {
		s.v, s.saved, s.data = *sv, *sv, nil
		return nil
	}
	data, err := encodeState(v)
	if err != nil {
		return err
	}
	return s.stateLoad(data)
}

func (s *Stateful[S]) stateSaved(data []byte, plain bool) {
	s.data = data
	if plain {
		s.saved = s.v
	}
}

// plainType reports whether values of t compare equal exactly when their
// encodings do: comparable, and holding no pointer or interface whose
// target could change behind an unchanged value.
func plainType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	case reflect.Array:
		return plainType(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !plainType(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

var codecs = sync.Pool{New: func() any { return newStateCodec() }}

type stateCodec struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
	rd  bytes.Reader
	dec *msgpack.Decoder
}

func newStateCodec() *stateCodec {
	c := &stateCodec{}
	c.enc = msgpack.NewEncoder(&c.buf)
	c.enc.SetCustomStructTag("json")
	c.dec = msgpack.NewDecoder(&c.rd)
	c.dec.SetCustomStructTag("json")
	return c
}

func encodeState(v any) ([]byte, error) {
	c := codecs.Get().(*stateCodec)
	defer codecs.Put(c)
	c.buf.Reset()
	if err := c.enc.Encode(v); err != nil {
		return nil, fmt.Errorf("consumer: encode state %T: %w", v, err)
	}
	return bytes.Clone(c.buf.Bytes()), nil
}

func decodeState(data []byte, v any) error {
	c := codecs.Get().(*stateCodec)
	defer codecs.Put(c)
	c.rd.Reset(data)
	c.dec.Reset(&c.rd)
	c.dec.SetCustomStructTag("json")
	if err := c.dec.Decode(v); err != nil {
		return fmt.Errorf("consumer: decode state %T: %w", v, err)
	}
	return nil
}

// stateKind is what an App knows of its consumer type's state, once.
type stateKind struct {
	once  sync.Once
	has   bool
	plain bool
	name  string
	mem   session.Store // the store without session.Middleware
}

// stateRun is one instance's state bookkeeping.
type stateRun struct {
	cell    stateful
	kind    *stateKind
	store   session.Store
	vs      session.ValueStore // store, when the state is kept as a value (see valueStore)
	ss      *session.Sessions  // nil: kind.mem, kept forever
	key     string
	version uint64
	loaded  bool

	// Sends held while a handler runs. Handle's goroutine starts and
	// stops holding; a handler may Send from goroutines of its own too,
	// so held is appended and taken under mu, and holding is atomic so
	// that a Send while nothing is held takes no lock.
	holding atomic.Bool
	mu      sync.Mutex
	held    []event.Event
	spare   []event.Event // the array taken before, cleared by flushHeld: the next held
}

// hold queues ev while a handler of a stateful instance runs, and reports
// whether it did.
func (r *stateRun) hold(ev event.Event) bool {
	if !r.holding.Load() {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.holding.Load() { // taken meanwhile
		return false
	}
	r.held = append(r.held, ev)
	return true
}

// begin starts holding sends.
func (r *stateRun) begin() { r.holding.Store(true) }

// take stops holding sends and returns those held, which the caller
// clears once done with them: their array holds the next event but one's
// sends, so that the two arrays serve every event.
func (r *stateRun) take() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holding.Store(false)
	held := r.held
	r.held, r.spare = r.spare[:0], held
	return held
}

// handleStateful runs ev's handler between a load and a save of the
// instance's state, again on a conflict.
func (b *Base) handleStateful(ctx context.Context, ev event.Event) error {
	r := b.state
	_, final := ev.(scope.Final)
	var err error
	for attempt := range StateAttempts {
		if attempt > 0 {
			if werr := backoff(ctx, attempt); werr != nil {
				return fmt.Errorf("consumer: save state of %s: %w", b.scope, errors.Join(err, werr))
			}
		}
		// The final event sees the state as the last event left it: the
		// scope may be ending because its context was cancelled.
		if !final || !r.loaded {
			if err = b.loadState(ctx); err != nil {
				return err
			}
		}
		final = false // after a conflict, load
		r.begin()
		herr := b.handle(ctx, ev)
		var data []byte
		var changed bool
		vs, byValue := r.valueStore()
		switch {
		case herr != nil:
		case byValue:
			changed = r.cell.stateDirty()
		default:
			data, changed, herr = r.cell.stateChanged(r.kind.plain)
		}
		if herr != nil {
			r.loaded = false // what the failed handler changed is forgotten
			return errors.Join(herr, b.flushHeld(ctx, r.take()))
		}
		if !changed {
			return b.flushHeld(ctx, r.take())
		}
		var v uint64
		if byValue {
			var spare any
			v, spare, err = vs.SaveValue(ctx, r.key, r.cell.stateValue(), encodeState, r.version, r.ttl())
			if spare != nil {
				r.cell.stateSpare(spare)
			}
		} else {
			v, err = r.store.Save(ctx, r.key, data, r.version, r.ttl())
		}
		if err == nil {
			r.version = v
			r.cell.stateSaved(data, r.kind.plain)
			return b.flushHeld(ctx, r.take())
		}
		clear(r.take()) // a lost run's sends are dropped with it
		r.loaded = false
		if !errors.Is(err, session.ErrConflict) {
			return fmt.Errorf("consumer: save state of %s: %w", b.scope, err)
		}
	}
	return fmt.Errorf("consumer: save state of %s: lost to other writers %d times: %w", b.scope, StateAttempts, err)
}

// loadState loads the stored state when it is not the one the instance
// holds: one Load, and a decode only when another writer saved since.
func (b *Base) loadState(ctx context.Context) error {
	r := b.state
	var rec session.Record
	var err error
	if vs, ok := r.valueStore(); ok {
		var have uint64 // a version whose value the instance holds: none comes back
		if r.loaded {
			have = r.version
		}
		rec, err = vs.LoadValue(ctx, r.key, have)
	} else {
		rec, err = r.store.Load(ctx, r.key)
	}
	if err != nil {
		return fmt.Errorf("consumer: load state of %s: %w", b.scope, err)
	}
	if r.loaded && rec.Version == r.version {
		return nil
	}
	if rec.Value != nil {
		err = r.cell.stateLoadValue(rec.Value)
	} else {
		err = r.cell.stateLoad(rec.Data)
	}
	if err != nil {
		return fmt.Errorf("consumer: state of %s: %w", b.scope, err)
	}
	r.version, r.loaded = rec.Version, true
	return nil
}

// flushHeld sends what a handler sent while its state was unsaved.
func (b *Base) flushHeld(ctx context.Context, held []event.Event) error {
	defer clear(held)
	var errs []error
	for _, ev := range held {
		if err := b.conn.Send(ctx, ev); err != nil {
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	if err != nil && errors.Is(err, event.ErrRefused) {
		b.Logger().Warn("the platform refused a send; the conversation goes on", "err", err)
		return nil
	}
	return err
}

// valueStore returns the store as a session.ValueStore when the state
// is kept as a value: a plain type (no pointers: a saved value cannot
// change behind the store's back) on a store in this process's memory,
// which then neither encodes nor decodes it.
func (r *stateRun) valueStore() (session.ValueStore, bool) { return r.vs, r.vs != nil }

func (r *stateRun) ttl() time.Duration {
	if r.ss == nil {
		return 0
	}
	return r.ss.TTL()
}

// attach gives b, the Base of the new instance self of scope s, its state
// bookkeeping if self's type embeds State.
func (k *stateKind) attach(b *Base, self any, s *scope.Scope) {
	k.once.Do(func() {
		cell, ok := self.(stateful)
		if !ok {
			return
		}
		t := cell.stateType()
		k.has, k.plain, k.name = true, plainType(t), t.String()
		k.mem = memory.New()
	})
	if !k.has {
		return
	}
	key := session.ConversationKey(s)
	if kf, ok := self.(StateKeyer); ok {
		if k := kf.StateKey(s); k != "" {
			key = k
		}
	}
	r := &stateRun{cell: self.(stateful), kind: k, store: k.mem, key: key + "/" + k.name}
	if ss := session.From(s); ss != nil {
		r.ss, r.store = ss, ss.Store
	}
	if vs, ok := r.store.(session.ValueStore); ok && k.plain {
		r.vs = vs
	}
	b.state = r
}

// backoff waits before attempt (from 1): a random time up to 1 ms doubled
// per attempt, at most 100 ms, or until ctx ends.
func backoff(ctx context.Context, attempt int) error {
	ceiling := min(time.Millisecond<<min(attempt-1, 7), 100*time.Millisecond)
	t := time.NewTimer(rand.N(ceiling) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
