package scope

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/event"
)

// Adapter is the manager's view of the adapter that owns it: where the
// outbound events of its scopes go, and what the protocol's final event
// looks like. An adapters.Host is the Adapter of its manager.
type Adapter interface {
	// Send delivers an outbound event sent by the instance serving s.
	Send(ctx context.Context, s *Scope, ev event.Event) error
	// Disconnect returns the protocol's disconnect event for a scope that
	// ends for reason r. It must implement Final.
	Disconnect(s *Scope, r Reason) Final
}

// Corker is an optional interface of an Adapter. When a scope's worker
// finds several events queued, it corks the scope while it handles them
// and uncorks it once the queue is empty, so that the adapter can hold
// back what the handlers send meanwhile and write it together: a
// WebSocket connection sends the frames in one system call. Cork and
// Uncork are called from the scope's worker, between handlers, in pairs.
type Corker interface {
	Cork(s *Scope)
	Uncork(s *Scope)
}

func corkerOf(a Adapter) Corker {
	c, _ := a.(Corker)
	return c
}

// EndNotifier is an optional interface of an Adapter: the manager calls
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
// reached (or refuses the new scope, for scopes that are connections: see
// Config.NoEvict), and ends every scope on Shutdown.
//
// An idle scope holds no goroutine: a scope with queued events is served
// by one of a pool of at most Config.Workers worker goroutines, or waits
// in a run queue for one, and leaves its worker when its inbox is empty
// (or, while other scopes wait, after a turn of InboxSize events). Workers
// live on from one scope to the next, so that their stacks, grown to a
// handler's depth, serve again; one parked for 20 ms with nothing to do
// exits, and none is parked past Shutdown or Close. A worker whose handler
// runs past Config.StallAfter while scopes wait is replaced, so that
// handlers that never return cannot hold up the other scopes for good.
//
// All methods are safe for concurrent use.
type Manager struct {
	app    Application
	proto  Adapter
	corker Corker // proto, if it is one
	cfg    Config
	log    *slog.Logger
	clock  Clock // nil: the wall clock
	seed   maphash.Seed
	// closeWait bounds how long Close waits for handlers.
	closeWait time.Duration
	epoch     time.Time
	// moveEvery bounds how often an active scope moves in the activity
	// list (see touchLocked), in nanoseconds.
	moveEvery int64

	// ctx is the context handlers run with; cancel ends it on Close or
	// when Shutdown runs out of time.
	ctx    context.Context
	cancel context.CancelFunc

	live    atomic.Int64 // entries in the shards' maps
	closed  atomic.Bool  // no new deliveries
	workers sync.WaitGroup
	stop    chan struct{} // closed to stop the idle sweeper
	once    sync.Once     // guards the shutdown sequence

	drainOnce sync.Once
	done      chan struct{} // closed once every worker returned; see drained

	rings sync.Pool // of *ring, InboxSize events each

	// pool runs the handlers of scopes with work (see pool.go).
	pool pool

	shards [numShards]shard
}

// ring is a scope's inbox while it has events queued. Rings are pooled:
// a scope holds one only between its first queued event and the moment its
// worker finds it empty.
type ring struct{ buf []item }

// item is one queued event and who to tell once it is handled.
type item struct {
	ev  event.Event
	ack Ack
}

func (m *Manager) getRing() *ring {
	if r, ok := m.rings.Get().(*ring); ok {
		return r
	}
	return &ring{buf: make([]item, m.cfg.InboxSize)}
}

func (m *Manager) putRing(r *ring) {
	if r != nil { // a scope served inline may never have had one
		m.rings.Put(r)
	}
}

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
	moved      int64 // m.now() when it last moved to the front: the list's order
	inbox      *ring // nil while the scope is idle
	head, n    int
	state      uint8
	running    bool          // a worker goroutine serves the inbox
	blocked    bool          // waiting for a predecessor with the same key to end
	handling   string        // the type of the event being handled, for Shutdown's report
	succ       *entry        // the entry that takes over this key once this one is done
	space      chan struct{} // closed when the inbox gets room; made only when a sender waits
	startErr   error         // why the instance could not be made, if it could not
}

// NewManager returns a Manager that serves app for the adapter proto.
func NewManager(app Application, proto Adapter, cfg Config, opts ...Option) (*Manager, error) {
	if app == nil || proto == nil {
		return nil, fmt.Errorf("scope: NewManager needs an application and a protocol")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scope: invalid config: %w", err)
	}
	cfg.setDefaults()
	o := options{logger: slog.Default(), closeWait: DefaultCloseWait}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.sweep == 0 {
		o.sweep = min(max(cfg.IdleTimeout/8, 5*time.Millisecond), time.Second)
	}
	moveEvery := o.sweep
	if cfg.IdleTimeout <= 0 {
		moveEvery = time.Second
	}
	m := &Manager{
		app: app, proto: proto, corker: corkerOf(proto), cfg: cfg, log: o.logger, clock: o.clock, closeWait: o.closeWait,
		seed: maphash.MakeSeed(), moveEvery: int64(moveEvery),
		stop: make(chan struct{}),
	}
	m.pool.m = m
	m.epoch = m.wallNow()
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

func (m *Manager) now() int64 {
	if m.clock == nil {
		return int64(time.Since(m.epoch))
	}
	return int64(m.clock.Now().Sub(m.epoch))
}

func (m *Manager) wallNow() time.Time {
	if m.clock == nil {
		return time.Now()
	}
	return m.clock.Now()
}

// Deliver queues ev for the scope filed under key, creating the scope with
// newScope when the key has no live scope. newScope is called at most once,
// with an internal lock held: it must only build the Scope. The Scope's Key
// is set to key.
//
// Deliver returns once the event is in the scope's inbox. While the inbox is
// full it waits, until ctx ends (returning ctx's error): the adapter feels
// the backpressure and nothing is dropped. It fails with ErrClosed after
// Shutdown or Close began, and with ErrTooManyScopes when a new scope is
// needed at the bound and no live scope is idle (or none may be evicted:
// Config.NoEvict).
func (m *Manager) Deliver(ctx context.Context, key string, ev event.Event, newScope func() *Scope) error {
	return m.deliver(ctx, m.shardFor(key), key, item{ev: ev}, newScope, false)
}

// DeliverAck is Deliver, and calls ack once the event's handler has
// returned (ack(nil): the event is done, whatever the handler returned,
// since a failed handler's error is the manager's to log), or with an
// error wrapping ErrNotHandled when the event will not be handled in this
// process: dropped, or its handler failed after Close or Shutdown's
// deadline cancelled its context, which cut it short. ack is called exactly once if DeliverAck returns nil, and
// never if it returns an error. It runs on the scope's worker goroutine:
// it must not block. Adapters use it to acknowledge an update to their
// platform only once it is safe.
func (m *Manager) DeliverAck(ctx context.Context, key string, ev event.Event, newScope func() *Scope, ack Ack) error {
	return m.deliver(ctx, m.shardFor(key), key, item{ev: ev, ack: ack}, newScope, false)
}

// TryDeliver is DeliverAck without waiting: it fails at once with
// ErrInboxFull when the scope's inbox is full. A nil ack is allowed.
func (m *Manager) TryDeliver(key string, ev event.Event, newScope func() *Scope, ack Ack) error {
	return m.deliver(nil, m.shardFor(key), key, item{ev: ev, ack: ack}, newScope, false)
}

// DeliverInline is Deliver for adapters that hold a goroutine per
// connection anyway (WebSocket's read loop): when the scope has no worker,
// the calling goroutine becomes its worker, handling ev and whatever is
// queued meanwhile before it returns, which saves starting a goroutine per
// event. An adapter that feeds many scopes from one goroutine must use
// Deliver, or one slow conversation would hold up the others.
func (m *Manager) DeliverInline(ctx context.Context, key string, ev event.Event, newScope func() *Scope) error {
	// The common case, a live and idle scope, is served here rather than
	// at the bottom of deliver's calls, whose frames would otherwise sit
	// under the handler's on a stack that is seldom in cache when
	// thousands of connections are busy.
	sh := m.shardFor(key)
	if !m.closed.Load() {
		sh.mu.Lock()
		if e := sh.m[key]; e != nil && m.runInlineLocked(e, ev) {
			return nil
		}
		sh.mu.Unlock()
	}
	return m.deliver(ctx, sh, key, item{ev: ev}, newScope, true)
}

// Post queues ev for the live scope filed under key, after the events
// already queued, but never starts a scope: without a live scope it
// returns ErrEnded. Adapters use it to give a conversation the outcome of
// an outbound call, such as an error the platform reported for a message
// the instance sent. Posting does not count as activity for the idle
// timeout.
func (m *Manager) Post(ctx context.Context, key string, ev event.Event) error {
	return m.post(ctx, key, ev)
}

// TryPost is Post without waiting: it fails at once with ErrInboxFull when
// the scope's inbox is full.
func (m *Manager) TryPost(key string, ev event.Event) error {
	return m.post(nil, key, ev)
}

// post is Post; a nil ctx means not to wait for room.
func (m *Manager) post(ctx context.Context, key string, ev event.Event) error {
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
	return postResult(m.enqueueLocked(ctx, e, item{ev: ev}, false, false))
}

// postResult turns errStale into ErrEnded for Post, which never moves on
// to a successor scope.
func postResult(err error) error {
	if err == errStale {
		return ErrEnded
	}
	return err
}

// deliver queues it for key; a nil ctx means not to wait for room.
func (m *Manager) deliver(ctx context.Context, sh *shard, key string, it item, newScope func() *Scope, inline bool) error {
	for {
		// A scope that ends while a delivery waits for room in its inbox
		// hands its key to a successor: deliver to that one.
		if err := m.deliverOnce(ctx, sh, key, it, newScope, inline); err != errStale {
			return err
		}
	}
}

func (m *Manager) deliverOnce(ctx context.Context, sh *shard, key string, it item, newScope func() *Scope, inline bool) error {
	if m.closed.Load() {
		return ErrClosed
	}
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
			e.last = m.now()
			e.moved = e.last
			if pred := sh.ending[key]; pred != nil {
				e.blocked = true
				pred.succ = e
			}
			sh.m[key] = e
			sh.pushFrontLocked(e)
		}
	}
	return m.enqueueLocked(ctx, e, it, true, inline)
}

// errStale: the scope ended while an enqueue waited for room.
var errStale = errors.New("scope: ended while waiting")

// enqueueLocked appends it to e's inbox, waiting for room while it is full
// (or failing with ErrInboxFull when ctx is nil), and fails with errStale if
// the scope ends meanwhile. It unlocks e.sh.mu before returning. touch
// marks the scope active; inline makes the caller the scope's worker if it
// has none.
func (m *Manager) enqueueLocked(ctx context.Context, e *entry, it item, touch, inline bool) error {
	sh := e.sh
	for e.n == m.cfg.InboxSize {
		if ctx == nil {
			sh.mu.Unlock()
			return fmt.Errorf("scope %s: %w (%d events)", e.s, ErrInboxFull, m.cfg.InboxSize)
		}
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
	if inline && it.ack == nil && m.runInlineLocked(e, it.ev) {
		return nil
	}
	if e.inbox == nil {
		e.inbox = m.getRing()
	}
	e.inbox.buf[(e.head+e.n)%len(e.inbox.buf)] = it
	e.n++
	if touch {
		m.touchLocked(e)
	}
	if inline && !e.running && !e.blocked {
		e.running = true
		m.workers.Add(1)
		sh.mu.Unlock()
		m.work(e, nil, nil)
		m.workers.Done()
		return nil
	}
	start := m.claimLocked(e)
	sh.mu.Unlock()
	if start {
		// Handed over without the shard's lock, which the pool's lock
		// would otherwise hold up for every scope of the shard.
		m.pool.put(e)
	}
	return nil
}

// runInlineLocked makes the caller the worker of e, if e is live and idle,
// and handles ev at once: it needs no inbox slot, and the activity mark
// waits until the handler is done, when work sets it (an entry that is
// running is never idle, so the sweeper and eviction leave it alone
// meanwhile). It reports whether it did; then it has released e.sh.mu and
// handled ev and whatever was queued meanwhile.
func (m *Manager) runInlineLocked(e *entry, ev event.Event) bool {
	if e.state != stateLive || e.running || e.blocked || e.n > 0 {
		return false
	}
	e.running = true
	e.handling = ev.Type()
	m.workers.Add(1)
	e.sh.mu.Unlock()
	m.work(e, ev, nil)
	m.workers.Done()
	return true
}

// startLocked hands e to a worker if it has work and none serves it.
func (m *Manager) startLocked(e *entry) {
	if m.claimLocked(e) {
		m.pool.put(e)
	}
}

// claimLocked marks e as served, and reports whether it is for the caller
// to hand it to a worker (pool.put): it has work and nobody serves it.
// It counts e in m.workers at once, under the shard's lock, so that a
// Shutdown that finds e marked running waits for it although the hand-over
// comes after the lock is released.
func (m *Manager) claimLocked(e *entry) bool {
	if e.running || e.blocked || (e.n == 0 && e.state != stateEnding) {
		return false
	}
	e.running = true
	m.workers.Add(1)
	return true
}

// Send implements Conn for the entry's instance.
func (e *entry) Send(ctx context.Context, ev event.Event) error {
	return e.m.proto.Send(ctx, e.s, ev)
}

// Post implements Conn for the entry's instance.
func (e *entry) Post(ctx context.Context, ev event.Event) error {
	return e.post(ctx, ev)
}

var _ TryPoster = (*entry)(nil)

// TryPost is Post without waiting: it fails at once with ErrInboxFull
// when the inbox is full. It makes the entry a TryPoster.
func (e *entry) TryPost(ev event.Event) error {
	return e.post(nil, ev)
}

// post is Post; a nil ctx means not to wait for room.
func (e *entry) post(ctx context.Context, ev event.Event) error {
	e.sh.mu.Lock()
	if e.state != stateLive {
		e.sh.mu.Unlock()
		return ErrEnded
	}
	return postResult(e.m.enqueueLocked(ctx, e, item{ev: ev}, false, false))
}
