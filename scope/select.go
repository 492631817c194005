package scope

// EndWhere ends, like End, every live scope whose key match accepts, each
// with the final event final returns for it, and returns how many it ended.
// It visits the live scopes one shard at a time, with that shard's lock
// held: match and final must be quick and must not call the Manager. An
// adapter whose conversations move to another process ends those that
// moved with it.
func (m *Manager) EndWhere(match func(key string) bool, final func(s *Scope) Final) int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for key, e := range sh.m {
			if match(key) {
				m.live.Add(-1)
				m.endLocked(e, final(e.s))
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}
