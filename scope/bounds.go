package scope

import (
	"fmt"
	"time"
)

// reserve counts one more live scope. At the bound it evicts an idle one,
// or, when the manager's scopes are not evictable (Config.NoEvict), fails.
func (m *Manager) reserve() error {
	n := m.live.Add(1)
	if m.cfg.MaxScopes < 0 || n <= int64(m.cfg.MaxScopes) {
		return nil
	}
	if !m.cfg.NoEvict && m.evictOldestIdle() {
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
// queued and no worker. The walk goes on past the first idle entry while
// an entry may still have been active before it: entries nearer the head
// moved later, and their last activity is never before their move.
func (sh *shard) oldestIdleLocked() *entry {
	var best *entry
	for e := sh.tail; e != nil; e = e.prev {
		if best != nil && e.moved > best.last {
			break
		}
		if e.idleLocked() && (best == nil || e.last < best.last) {
			best = e
		}
	}
	return best
}

func (e *entry) idleLocked() bool { return !e.running && e.n == 0 && !e.blocked }

// sweep ends idle scopes until the manager stops.
func (m *Manager) sweep(every time.Duration) {
	defer m.workers.Done()
	var tick <-chan time.Time
	if m.clock == nil {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		if m.clock != nil {
			tick = m.clock.After(every)
		}
		select {
		case <-m.stop:
			return
		case <-tick:
			m.endIdle(m.now() - int64(m.cfg.IdleTimeout))
		}
	}
}

// endIdle ends the idle scopes last active before cutoff. The activity list
// is ordered by when entries moved, never after their last activity, so
// each shard's walk stops at its first entry moved since cutoff.
func (m *Manager) endIdle(cutoff int64) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for e := sh.tail; e != nil && e.moved < cutoff; {
			prev := e.prev
			if e.idleLocked() && e.last < cutoff {
				m.live.Add(-1)
				m.endLocked(e, m.proto.Disconnect(e.s, ReasonIdle))
			}
			e = prev
		}
		sh.mu.Unlock()
	}
}
