package scope

// Idle reports whether key has a live scope with no queued events and no
// worker: what eviction looks for.
func (m *Manager) Idle(key string) bool {
	sh := m.shardFor(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[key]
	return e != nil && e.idleLocked()
}
