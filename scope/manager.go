package scope

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/event"
)

// Protocol is the manager's view of the adapter that owns it: where the
// outbound events of its scopes go, and what the protocol's final event
// looks like.
type Protocol interface {
	// Send delivers an outbound event sent by the instance serving s.
	Send(ctx context.Context, s *Scope, ev event.Event) error
	// Disconnect returns the protocol's disconnect event for a scope that
	// ends for reason r. It must implement Final.
	Disconnect(s *Scope, r Reason) Final
}

// EndNotifier is an optional interface of a Protocol: the manager calls
// Ended after a scope's final event was handled, or after its instance
// could not be created (err is then that failure). Adapters use it to
// release what they keep per conversation.
type EndNotifier interface {
	Ended(s *Scope, r Reason, err error)
}

const numShards = 64

// Manager keeps one live application instance per conversation key. It is
// the part every chat adapter shares: the adapter calls Deliver for each
// incoming update, and the manager creates the instance on the first event,
// feeds it events strictly in arrival order, runs different scopes in
// parallel, bounds each scope's inbox, ends scopes that stay idle, evicts
// the least recently active idle scope when the bound on live scopes is
// reached, and ends every scope on Shutdown.
//
// An idle scope holds no goroutine: a scope's worker goroutine is started
// when an event is queued for it and exits when its inbox is empty.
//
// All methods are safe for concurrent use.
type Manager struct {
	app   Application
	proto Protocol
	cfg   Config
	log   *slog.Logger
	seed  maphash.Seed
	epoch time.Time

	// ctx is the context handlers run with; cancel ends it on Close or
	// when Shutdown runs out of time.
	ctx    context.Context
	cancel context.CancelFunc

	live    atomic.Int64 // entries in the shards' maps
	closed  atomic.Bool  // no new deliveries
	workers sync.WaitGroup
	stop    chan struct{} // closed to stop the idle sweeper
	once    sync.Once     // guards the shutdown sequence

	rings sync.Pool // of *ring, InboxSize events each

	shards [numShards]shard
}

// ring is a scope's inbox while it has events queued. Rings are pooled:
// a scope holds one only between its first queued event and the moment its
// worker finds it empty.
type ring struct{ buf []event.Event }

func (m *Manager) getRing() *ring {
	if r, ok := m.rings.Get().(*ring); ok {
		return r
	}
	return &ring{buf: make([]event.Event, m.cfg.InboxSize)}
}

func (m *Manager) putRing(r *ring) { m.rings.Put(r) }

type shard struct {
	mu sync.Mutex
	// Guarded by mu: the live entries and their activity list, most recent
	// at head. Every field of the entries in it is guarded by mu too.
	m          map[string]*entry
	head, tail *entry
	// ending holds, per key, the newest scope that left m but has not
	// handled its final event yet: a new scope for the key waits for it.
	ending map[string]*entry
}

// entry states.
const (
	stateLive   uint8 = iota // in the map, accepting events
	stateEnding              // final event queued; not in the map
	stateDone                // final event handled
)

// entry is one live scope. It is kept small because a million of them may
// sit idle: no goroutine, no channel, and no inbox buffer until an event
// arrives.
type entry struct {
	m     *Manager
	sh    *shard
	s     *Scope
	inst  Instance
	final Final // the disconnect event, once the scope is ending

	// All of the following are guarded by sh.mu.
	prev, next *entry
	last       int64 // nanoseconds since m.epoch of the last activity
	inbox      *ring // nil while the scope is idle
	head, n    int
	state      uint8
	running    bool          // a worker goroutine serves the inbox
	blocked    bool          // waiting for a predecessor with the same key to end
	succ       *entry        // the entry that takes over this key once this one is done
	space      chan struct{} // closed when the inbox gets room; made only when a sender waits
	startErr   error         // why the instance could not be made, if it could not
}

// NewManager returns a Manager that serves app for the adapter proto.
func NewManager(app Application, proto Protocol, cfg Config, opts ...Option) (*Manager, error) {
	if app == nil || proto == nil {
		return nil, fmt.Errorf("scope: NewManager needs an application and a protocol")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scope: invalid config: %w", err)
	}
	cfg.setDefaults()
	o := options{logger: slog.Default()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.sweep == 0 {
		o.sweep = min(max(cfg.IdleTimeout/8, 5*time.Millisecond), time.Second)
	}
	m := &Manager{
		app: app, proto: proto, cfg: cfg, log: o.logger,
		seed: maphash.MakeSeed(), epoch: time.Now(),
		stop: make(chan struct{}),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	for i := range m.shards {
		m.shards[i].m = make(map[string]*entry)
		m.shards[i].ending = make(map[string]*entry)
	}
	if cfg.IdleTimeout > 0 {
		m.workers.Add(1)
		go m.sweep(o.sweep)
	}
	return m, nil
}

// Len returns the number of live scopes.
func (m *Manager) Len() int { return int(m.live.Load()) }

func (m *Manager) shardFor(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%numShards]
}

func (m *Manager) now() int64 { return int64(time.Since(m.epoch)) }

// Deliver queues ev for the scope filed under key, creating the scope with
// newScope when the key has no live scope. newScope is called at most once,
// with an internal lock held: it must only build the Scope. The Scope's Key
// is set to key.
//
// Deliver returns once the event is in the scope's inbox. While the inbox is
// full it waits, until ctx ends (returning ctx's error): the adapter feels
// the backpressure and nothing is dropped. It fails with ErrClosed after
// Shutdown or Close began, and with ErrTooManyScopes when a new scope is
// needed at the bound and no live scope is idle.
func (m *Manager) Deliver(ctx context.Context, key string, ev event.Event, newScope func() *Scope) error {
	return m.deliver(ctx, key, ev, newScope, false)
}

// DeliverInline is Deliver for adapters that hold a goroutine per
// connection anyway (WebSocket's read loop): when the scope has no worker,
// the calling goroutine becomes its worker, handling ev and whatever is
// queued meanwhile before it returns, which saves starting a goroutine per
// event. An adapter that feeds many scopes from one goroutine must use
// Deliver, or one slow conversation would hold up the others.
func (m *Manager) DeliverInline(ctx context.Context, key string, ev event.Event, newScope func() *Scope) error {
	return m.deliver(ctx, key, ev, newScope, true)
}

// Post queues ev for the live scope filed under key, after the events
// already queued, but never starts a scope: without a live scope it
// returns ErrEnded. Adapters use it to give a conversation the outcome of
// an outbound call, such as an error the platform reported for a message
// the instance sent. Posting does not count as activity for the idle
// timeout.
func (m *Manager) Post(ctx context.Context, key string, ev event.Event) error {
	if m.closed.Load() {
		return ErrClosed
	}
	sh := m.shardFor(key)
	sh.mu.Lock()
	e := sh.m[key]
	if e == nil {
		sh.mu.Unlock()
		return ErrEnded
	}
	return postResult(m.enqueueLocked(ctx, e, ev, false, false))
}

// postResult turns errStale into ErrEnded for Post, which never moves on
// to a successor scope.
func postResult(err error) error {
	if err == errStale {
		return ErrEnded
	}
	return err
}

func (m *Manager) deliver(ctx context.Context, key string, ev event.Event, newScope func() *Scope, inline bool) error {
	for {
		// A scope that ends while a delivery waits for room in its inbox
		// hands its key to a successor: deliver to that one.
		if err := m.deliverOnce(ctx, key, ev, newScope, inline); err != errStale {
			return err
		}
	}
}

func (m *Manager) deliverOnce(ctx context.Context, key string, ev event.Event, newScope func() *Scope, inline bool) error {
	if m.closed.Load() {
		return ErrClosed
	}
	sh := m.shardFor(key)
	sh.mu.Lock()
	e := sh.m[key]
	if e == nil {
		sh.mu.Unlock()
		if err := m.reserve(); err != nil {
			return err
		}
		sh.mu.Lock()
		// Shutdown may have swept this shard while the lock was not held.
		if m.closed.Load() {
			sh.mu.Unlock()
			m.live.Add(-1)
			return ErrClosed
		}
		if e = sh.m[key]; e != nil {
			m.live.Add(-1) // another delivery created it meanwhile
		} else {
			s := newScope()
			s.Key = key
			e = &entry{m: m, sh: sh, s: s}
			if pred := sh.ending[key]; pred != nil {
				e.blocked = true
				pred.succ = e
			}
			sh.m[key] = e
			sh.pushFrontLocked(e)
		}
	}
	return m.enqueueLocked(ctx, e, ev, true, inline)
}

// reserve counts one more live scope, evicting an idle one at the bound.
func (m *Manager) reserve() error {
	n := m.live.Add(1)
	if m.cfg.MaxScopes < 0 || n <= int64(m.cfg.MaxScopes) {
		return nil
	}
	if m.evictOldestIdle() {
		m.live.Add(-1) // the evicted scope's slot is now ours
		return nil
	}
	m.live.Add(-1)
	return fmt.Errorf("%w (max_scopes is %d)", ErrTooManyScopes, m.cfg.MaxScopes)
}

// evictOldestIdle ends the least recently active idle scope. It reports
// whether one was found. The live count is left as it is: the caller takes
// over the evicted scope's slot.
func (m *Manager) evictOldestIdle() bool {
	for range 3 { // the oldest may turn busy between the two passes
		var (
			best     *shard
			bestLast int64
		)
		for i := range m.shards {
			sh := &m.shards[i]
			sh.mu.Lock()
			if e := sh.oldestIdleLocked(); e != nil && (best == nil || e.last < bestLast) {
				best, bestLast = sh, e.last
			}
			sh.mu.Unlock()
		}
		if best == nil {
			return false
		}
		best.mu.Lock()
		if e := best.oldestIdleLocked(); e != nil {
			m.endLocked(e, m.proto.Disconnect(e.s, ReasonEvicted))
			best.mu.Unlock()
			return true
		}
		best.mu.Unlock()
	}
	return false
}

// oldestIdleLocked returns the least recently active entry with nothing
// queued and no worker.
func (sh *shard) oldestIdleLocked() *entry {
	for e := sh.tail; e != nil; e = e.prev {
		if e.idleLocked() {
			return e
		}
	}
	return nil
}

func (e *entry) idleLocked() bool { return !e.running && e.n == 0 && !e.blocked }

// End queues final as the last event of the scope filed under key, after
// the events already queued, and removes the scope from the live set: a
// later delivery for the key starts a new scope, which waits until this one
// has handled final. It reports whether a live scope was found. Adapters
// call it when a connection closes (websocket.disconnect with its code).
func (m *Manager) End(key string, final Final) bool {
	sh := m.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[key]
	if e == nil {
		return false
	}
	m.live.Add(-1)
	m.endLocked(e, final)
	return true
}

// endLocked takes e out of the live set and queues final after its inbox.
// The live count is the caller's to adjust.
func (m *Manager) endLocked(e *entry, final Final) {
	e.sh.retireLocked(e)
	e.final = final
	m.startLocked(e)
}

// retireLocked moves e from the live set to the ending set.
func (sh *shard) retireLocked(e *entry) {
	if sh.m[e.s.Key] == e {
		delete(sh.m, e.s.Key)
	}
	sh.removeLocked(e)
	sh.ending[e.s.Key] = e
	e.state = stateEnding
	if e.space != nil {
		// Deliveries waiting for room move on to the successor.
		close(e.space)
		e.space = nil
	}
}

// errStale: the scope ended while an enqueue waited for room.
var errStale = errors.New("scope: ended while waiting")

// enqueueLocked appends ev to e's inbox, waiting for room while it is full,
// and fails with errStale if the scope ends meanwhile. It unlocks e.sh.mu
// before returning. touch marks the scope active; inline
// makes the caller the scope's worker if it has none.
func (m *Manager) enqueueLocked(ctx context.Context, e *entry, ev event.Event, touch, inline bool) error {
	sh := e.sh
	for e.n == m.cfg.InboxSize {
		if e.space == nil {
			e.space = make(chan struct{})
		}
		space := e.space
		sh.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return fmt.Errorf("scope %s: inbox full (%d events): %w", e.s, m.cfg.InboxSize, ctx.Err())
		}
		sh.mu.Lock()
		if e.state != stateLive {
			sh.mu.Unlock()
			return errStale
		}
	}
	if e.inbox == nil {
		e.inbox = m.getRing()
	}
	e.inbox.buf[(e.head+e.n)%len(e.inbox.buf)] = ev
	e.n++
	if touch {
		e.last = m.now()
		sh.moveToFrontLocked(e)
	}
	if inline && !e.running && !e.blocked {
		e.running = true
		m.workers.Add(1)
		sh.mu.Unlock()
		m.work(e)
		return nil
	}
	m.startLocked(e)
	sh.mu.Unlock()
	return nil
}

// startLocked starts e's worker if it has work and none runs.
func (m *Manager) startLocked(e *entry) {
	if e.running || e.blocked || (e.n == 0 && e.state != stateEnding) {
		return
	}
	e.running = true
	m.workers.Add(1)
	go m.work(e)
}

// work serves e's inbox until it is empty, then exits, so that an idle
// scope holds no goroutine.
func (m *Manager) work(e *entry) {
	defer m.workers.Done()
	sh := e.sh
	for {
		sh.mu.Lock()
		if e.n == 0 {
			if e.state == stateEnding {
				sh.mu.Unlock()
				m.finish(e)
				return
			}
			e.running = false
			m.putRing(e.inbox) // an idle scope keeps no buffer
			e.inbox, e.head = nil, 0
			e.last = m.now()
			if e.state == stateLive {
				sh.moveToFrontLocked(e)
			}
			sh.mu.Unlock()
			return
		}
		ev := e.inbox.buf[e.head]
		e.inbox.buf[e.head] = nil
		e.head = (e.head + 1) % len(e.inbox.buf)
		e.n--
		if e.space != nil {
			close(e.space)
			e.space = nil
		}
		sh.mu.Unlock()
		if err := m.handle(e, ev); err != nil {
			m.fail(e, ev, err)
		}
	}
}

// handle runs one event through the instance, creating it first if needed.
// A panic becomes an error, so that one scope's bug never takes the
// process down.
func (m *Manager) handle(e *entry, ev event.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if e.inst == nil {
		inst, startErr := m.app.NewInstance(m.ctx, e.s, e)
		if startErr != nil {
			return &StartError{Err: startErr}
		}
		if inst == nil {
			return &StartError{Err: fmt.Errorf("application returned no instance")}
		}
		e.inst = inst
	}
	return e.inst.Handle(m.ctx, ev)
}

// fail ends a scope whose instance failed on ev. The events still queued
// behind ev are not dropped: they move to a new scope for the same key,
// which starts once this one has handled its final event.
func (m *Manager) fail(e *entry, ev event.Event, err error) {
	attrs := []any{"scope", e.s.String(), "event", ev.Type(), "err", err}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		attrs = append(attrs, "stack", string(pe.Stack))
	}
	if _, refused := errors.AsType[*StartError](err); refused {
		// No route, a denied user: the application said no, nothing broke.
		m.log.Warn("scope refused", attrs...)
	} else {
		m.log.Error("scope failed", attrs...)
	}
	sh := e.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.state != stateLive {
		// The adapter already ended the scope: only the final event is
		// left to deliver, and the failed instance gets nothing more.
		if e.n > 0 {
			m.log.Error("scope failed while ending; queued events not handled",
				"scope", e.s.String(), "events", e.n)
			clear(e.inbox.buf)
			e.head, e.n = 0, 0
		}
		return
	}
	var succ *entry
	if e.n > 0 {
		succ = &entry{m: m, sh: sh, s: e.s, blocked: true, last: e.last}
		succ.inbox, succ.head, succ.n = e.inbox, e.head, e.n
		e.inbox, e.head, e.n = nil, 0, 0
		if m.closed.Load() {
			m.log.Error("scope failed during shutdown; queued events not handled",
				"scope", e.s.String(), "events", succ.n)
			succ = nil
		}
	}
	sh.retireLocked(e)
	if succ != nil {
		// The successor takes over the key and its live slot.
		sh.m[e.s.Key] = succ
		sh.pushFrontLocked(succ)
		e.succ = succ
	} else {
		m.live.Add(-1)
	}
	if e.inst != nil {
		e.final = m.proto.Disconnect(e.s, ReasonError)
	}
	if se, ok := errors.AsType[*StartError](err); ok {
		e.startErr = se.Err
	}
}

// finish delivers e's final event (on a worker goroutine), then lets a
// successor for the same key start.
func (m *Manager) finish(e *entry) {
	var reason Reason = ReasonError
	if e.final != nil {
		reason = e.final.EndReason()
		if e.inst != nil {
			if err := m.handleFinal(e); err != nil {
				m.log.Error("disconnect handler failed", "scope", e.s.String(),
					"event", e.final.Type(), "err", err)
			}
		}
	}
	if n, ok := m.proto.(EndNotifier); ok {
		n.Ended(e.s, reason, e.startErr)
	}
	sh := e.sh
	sh.mu.Lock()
	if sh.ending[e.s.Key] == e {
		delete(sh.ending, e.s.Key)
	}
	e.state = stateDone
	e.running = false
	e.inst = nil
	if e.inbox != nil {
		m.putRing(e.inbox)
		e.inbox = nil
	}
	if s := e.succ; s != nil {
		e.succ = nil
		s.blocked = false
		m.startLocked(s)
	}
	sh.mu.Unlock()
}

func (m *Manager) handleFinal(e *entry) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return e.inst.Handle(m.ctx, e.final)
}

// Send implements Conn for the entry's instance.
func (e *entry) Send(ctx context.Context, ev event.Event) error {
	return e.m.proto.Send(ctx, e.s, ev)
}

// Post implements Conn for the entry's instance.
func (e *entry) Post(ctx context.Context, ev event.Event) error {
	e.sh.mu.Lock()
	if e.state != stateLive {
		e.sh.mu.Unlock()
		return ErrEnded
	}
	return postResult(e.m.enqueueLocked(ctx, e, ev, false, false))
}

// sweep ends idle scopes until the manager stops.
func (m *Manager) sweep(every time.Duration) {
	defer m.workers.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.endIdle(m.now() - int64(m.cfg.IdleTimeout))
		}
	}
}

// endIdle ends the idle scopes last active before cutoff. The activity list
// is ordered, so each shard's walk stops at its first recent entry.
func (m *Manager) endIdle(cutoff int64) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for e := sh.tail; e != nil && e.last < cutoff; {
			prev := e.prev
			if e.idleLocked() {
				m.live.Add(-1)
				m.endLocked(e, m.proto.Disconnect(e.s, ReasonIdle))
			}
			e = prev
		}
		sh.mu.Unlock()
	}
}

// Shutdown stops taking events, lets every scope handle what is already in
// its inbox, then ends every scope with ReasonShutdown and waits for the
// instances to return. If ctx ends first, it cancels the context handlers
// run with, logs the scopes still running, and returns ctx's error.
// Shutdown and Close may be called more than once; later calls wait too.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.once.Do(func() { m.endAll(ReasonShutdown) })
	done := make(chan struct{})
	go func() { m.workers.Wait(); close(done) }()
	select {
	case <-done:
		m.cancel()
		return nil
	case <-ctx.Done():
		m.cancel()
		m.log.Warn("scope shutdown timed out; cancelled handlers still running", "err", ctx.Err())
		<-done // handlers see the cancelled context; the goroutine above must not leak
		return ctx.Err()
	}
}

// Close ends every scope at once: handlers run with a cancelled context,
// each scope still gets its disconnect event with ReasonShutdown, and Close
// waits for the instances to return.
func (m *Manager) Close() error {
	m.cancel()
	return m.Shutdown(context.Background())
}

// endAll stops intake and queues every live scope's final event. Idle
// scopes are ended by a bounded pool of goroutines rather than one each.
func (m *Manager) endAll(r Reason) {
	m.closed.Store(true)
	close(m.stop)
	var idle []*entry
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			m.live.Add(-1)
			sh.retireLocked(e)
			e.final = m.proto.Disconnect(e.s, r)
			if e.running || e.blocked {
				continue // its worker (or its predecessor's) reaches the final event
			}
			e.running = true
			idle = append(idle, e)
		}
		sh.mu.Unlock()
	}
	if len(idle) == 0 {
		return
	}
	next := make(chan *entry)
	for range min(m.cfg.ShutdownParallelism, len(idle)) {
		m.workers.Add(1)
		go func() {
			defer m.workers.Done()
			for e := range next {
				m.finish(e)
			}
		}()
	}
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		for _, e := range idle {
			next <- e
		}
		close(next)
	}()
}

// The activity list: most recently active at head.

func (sh *shard) pushFrontLocked(e *entry) {
	e.prev, e.next = nil, sh.head
	if sh.head != nil {
		sh.head.prev = e
	}
	sh.head = e
	if sh.tail == nil {
		sh.tail = e
	}
}

func (sh *shard) removeLocked(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if sh.head == e {
		sh.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else if sh.tail == e {
		sh.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (sh *shard) moveToFrontLocked(e *entry) {
	if sh.head == e {
		return
	}
	sh.removeLocked(e)
	sh.pushFrontLocked(e)
}
