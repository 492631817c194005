package scope

import (
	"context"
	"fmt"
)

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

// Shutdown stops taking events, lets every scope handle what is already in
// its inbox, then ends every scope with ReasonShutdown and waits for the
// instances to return. If ctx ends first, it cancels the context handlers
// run with, logs each scope still running (with the event it is handling)
// and returns ctx's error at once: a handler that ignores its context is
// left behind rather than holding up the process.
// Shutdown and Close may be called more than once; later calls wait too.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.once.Do(func() { m.endAll(ReasonShutdown) })
	select {
	case <-m.drained():
		m.cancel()
		return nil
	case <-ctx.Done():
		m.cancel()
		m.logRunning("scope still running at the shutdown deadline; its handler's context is cancelled")
		return ctx.Err()
	}
}

// Close ends every scope at once: handlers run with a cancelled context,
// each scope still gets its disconnect event with ReasonShutdown. Close
// waits for the instances to return for at most the close wait (see
// WithCloseWait); then it logs the scopes still running and returns an
// error wrapping context.DeadlineExceeded.
func (m *Manager) Close() error {
	m.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), m.closeWait)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		return fmt.Errorf("scope: close: handlers still running after %v: %w", m.closeWait, err)
	}
	return nil
}

// drained returns a channel closed once every worker has returned. One
// goroutine waits for them, however often it is asked.
func (m *Manager) drained() <-chan struct{} {
	m.drainOnce.Do(func() {
		m.done = make(chan struct{})
		go func() { m.workers.Wait(); close(m.done) }()
	})
	return m.done
}

// logRunning logs every scope whose worker is still running.
func (m *Manager) logRunning(msg string) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, set := range [2]map[string]*entry{sh.m, sh.ending} {
			for _, e := range set {
				if e.running {
					m.log.Warn(msg, "adapter", e.s.Adapter, "key", e.s.Key, "scope", e.s.String(), "event", e.handling)
				}
			}
		}
		sh.mu.Unlock()
	}
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
				m.finish(e, nil)
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
