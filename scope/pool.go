package scope

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: at most Config.Workers goroutines run the handlers of
// scopes with queued events, and the scopes beyond them wait in a run
// queue, first come first served. A worker lives on from one scope to the
// next, so that its stack, grown to a handler's depth, serves again: a
// goroutine started per busy scope grows a new stack each time, which
// under a group fan-out (every member of a room busy at once) cost a
// goroutine per member and a seventh of the CPU in copying stacks.
//
// A bounded pool alone would let handlers that never return (or return
// only after a long wait on a platform) hold every worker while other
// scopes wait forever. So a watchdog looks at the workers every
// StallAfter while scopes wait for one: a worker found in the same handler
// at two looks in a row is taken out of the count and a new worker takes
// its place. The stalled
// worker finishes its scope's turn once its handler returns, and then
// rejoins the pool if there is room in it, or exits.

// workerIdle is how long a parked worker waits for a scope with work
// before it exits, so that an idle manager holds no goroutine. It is on
// the wall clock, not the manager's Clock: it decides nothing a caller
// sees but how soon an idle manager holds no goroutine.
const workerIdle = 20 * time.Millisecond

// WorkerStats is a snapshot of a Manager's worker pool.
type WorkerStats struct {
	// Workers counts the worker goroutines held against Config.Workers:
	// serving a scope or parked.
	Workers int
	// Parked counts those of Workers waiting for a scope with work.
	Parked int
	// Stalled counts workers taken out of the pool because their handler
	// ran past Config.StallAfter, and whose handler has not returned yet.
	Stalled int
	// Queued counts the scopes with work waiting for a worker.
	Queued int
	// Replaced counts the workers replaced since the manager started
	// because their handler stalled.
	Replaced uint64
}

// WorkerStats returns a snapshot of the worker pool.
func (m *Manager) WorkerStats() WorkerStats {
	p := &m.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	return WorkerStats{Workers: len(p.all), Parked: len(p.idle), Stalled: p.stalled,
		Queued: p.queuedLocked(), Replaced: p.replaced}
}

type pool struct {
	m *Manager

	mu sync.Mutex
	// queue holds the scopes waiting for a worker from index head on.
	// Every scope in it is marked running, so it is in it at most once,
	// and no worker serves it meanwhile.
	queue []*entry
	head  int
	// waiting mirrors the queue's length for workers that ask, between
	// events, whether another scope waits, without taking mu.
	waiting  atomic.Int32
	idle     []*worker // parked, the most recently parked last
	all      []*worker // counted against Config.Workers: serving or parked
	stalled  int       // taken out of all, their handler still running
	replaced uint64
	watching bool        // the watchdog's next look is armed
	tick     *time.Timer // the look on the wall clock, made once
}

// worker is one worker goroutine of the pool.
type worker struct {
	// next hands a scope to the worker while it is parked. It holds one,
	// so that the hand-over never blocks.
	next chan *entry
	// seq is bumped when a handler starts and when it returns: it is odd
	// while one runs. The watchdog compares it between two looks.
	seq atomic.Uint32

	// Guarded by the pool's mu.
	cur     *entry // the scope it serves, for the watchdog's log
	seen    uint32 // seq at the watchdog's last look
	stalled bool   // taken out of the pool's count
	at      int    // index in pool.all while counted
}

// handlerStarts and handlerReturned bracket a handler run by the worker;
// w is nil when a caller serves its scope inline, unwatched.
func (w *worker) handlerStarts() {
	if w != nil {
		w.seq.Add(1)
	}
}

func (w *worker) handlerReturned() {
	if w != nil {
		w.seq.Add(1)
	}
}

// put hands e, marked running, to a worker: a parked one, else a new one
// if the pool has room, else e waits in the run queue. The caller has
// counted e in the manager's workers, so that Shutdown waits for it on its
// way: a new worker keeps the count, and a parked worker or the queue
// (never left without a worker while it holds a scope) gives it back. put
// never takes a shard's lock, so it may be called with one held.
func (p *pool) put(e *entry) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		w.cur = e
		p.mu.Unlock()
		w.next <- e
		p.m.workers.Done()
		return
	}
	if len(p.all) < p.m.cfg.Workers {
		p.startLocked(e)
		p.mu.Unlock()
		return
	}
	p.queue = append(p.queue, e)
	p.waiting.Add(1)
	if !p.watching {
		p.armLocked()
	}
	p.mu.Unlock()
	p.m.workers.Done()
}

// startLocked starts a worker goroutine that serves e first. The caller
// has counted it in the manager's workers.
func (p *pool) startLocked(e *entry) {
	w := &worker{next: make(chan *entry, 1), cur: e}
	p.addLocked(w)
	go p.run(w, e)
}

func (p *pool) addLocked(w *worker) {
	w.at = len(p.all)
	w.seen = w.seq.Load()
	p.all = append(p.all, w)
}

func (p *pool) removeLocked(w *worker) {
	last := len(p.all) - 1
	p.all[w.at] = p.all[last]
	p.all[w.at].at = w.at
	p.all[last] = nil
	p.all = p.all[:last]
}

func (p *pool) queuedLocked() int { return len(p.queue) - p.head }

func (p *pool) popLocked() *entry {
	if p.head == len(p.queue) {
		return nil
	}
	e := p.queue[p.head]
	p.queue[p.head] = nil
	p.head++
	p.waiting.Add(-1)
	switch {
	case p.head == len(p.queue):
		p.queue, p.head = p.queue[:0], 0
	case p.head >= 1024 && 2*p.head >= len(p.queue):
		// A queue that never empties under load would otherwise grow
		// without end: move what waits to the front.
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue, p.head = p.queue[:n], 0
	}
	return e
}

// run is a worker goroutine: it serves e, then the scopes that get work
// after it, until it has waited workerIdle for one, or the manager stops
// with nothing queued, or it stalled and the pool has no room for it.
func (p *pool) run(w *worker, e *entry) {
	defer p.m.workers.Done()
	var idle *time.Timer
	for e != nil {
		p.m.work(e, nil, w)
		e = p.next(w, &idle)
	}
	if idle != nil {
		idle.Stop()
	}
}

// next returns the next scope for w to serve, parking w until one comes,
// or nil when w is to exit.
func (p *pool) next(w *worker, idle **time.Timer) *entry {
	p.mu.Lock()
	if w.stalled {
		p.stalled--
		if len(p.all) >= p.m.cfg.Workers {
			p.mu.Unlock()
			return nil
		}
		w.stalled = false
		p.addLocked(w)
	}
	if e := p.popLocked(); e != nil {
		w.cur = e
		p.mu.Unlock()
		return e
	}
	w.cur = nil
	p.idle = append(p.idle, w)
	p.mu.Unlock()

	if *idle == nil {
		*idle = time.NewTimer(workerIdle)
	} else {
		(*idle).Reset(workerIdle)
	}
	select {
	case e := <-w.next:
		return e
	case <-(*idle).C:
	case <-p.m.stop:
	}
	p.mu.Lock()
	if i := slices.Index(p.idle, w); i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
		p.removeLocked(w)
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	// A scope was handed over while w gave up waiting: serve it.
	return <-w.next
}

// armLocked schedules the watchdog's next look, StallAfter from now. On
// the wall clock the wait is a timer, not a goroutine, so that a manager
// whose queue emptied holds none while the look is pending.
func (p *pool) armLocked() {
	p.watching = true
	m := p.m
	if m.clock != nil {
		go p.lookAfter(m.clock.After(m.cfg.StallAfter))
		return
	}
	if p.tick == nil {
		p.tick = time.AfterFunc(m.cfg.StallAfter, p.look)
	} else {
		p.tick.Reset(m.cfg.StallAfter)
	}
}

// lookAfter waits on the manager's Clock for the watchdog's next look.
// When the manager stops it returns at once if no scope waits.
func (p *pool) lookAfter(c <-chan time.Time) {
	select {
	case <-c:
	case <-p.m.stop:
		p.mu.Lock()
		if p.queuedLocked() == 0 {
			p.watching = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		<-c
	}
	p.look()
}

// look is the watchdog: while scopes wait for a worker, it looks at the
// workers every StallAfter, replaces those found in the same handler as
// at the last look, and starts workers for the waiting scopes while the
// pool has room. A look that finds no scope waiting arms no other.
func (p *pool) look() {
	m := p.m
	p.mu.Lock()
	if p.queuedLocked() == 0 {
		p.watching = false
		p.mu.Unlock()
		return
	}
	var stalled []*entry
	for i := 0; i < len(p.all); {
		w := p.all[i]
		if s := w.seq.Load(); s&1 == 0 || s != w.seen {
			w.seen = s
			i++
			continue
		}
		// In the same handler since the last look.
		p.removeLocked(w)
		w.stalled = true
		p.stalled++
		p.replaced++
		stalled = append(stalled, w.cur)
	}
	replaced := p.replaced
	if len(stalled) > 0 {
		// The log comes before the replacements serve anything: it is
		// written without the pool's lock, and a shard's lock is taken
		// for the event's type.
		p.mu.Unlock()
		for _, e := range stalled {
			e.sh.mu.Lock()
			ev := e.handling
			e.sh.mu.Unlock()
			m.log.Warn("scope handler holds its worker past stall_after while other scopes wait; a new worker takes its place",
				"scope", e.s.String(), "event", ev, "stall_after", m.cfg.StallAfter, "replaced", replaced)
		}
		p.mu.Lock()
	}
	for p.queuedLocked() > 0 && len(p.all) < m.cfg.Workers {
		m.workers.Add(1)
		p.startLocked(p.popLocked())
	}
	if p.queuedLocked() > 0 {
		p.armLocked()
	} else {
		p.watching = false
	}
	p.mu.Unlock()
}
