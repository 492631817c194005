package telegram

import "sync"

// dedupe remembers the most recent update_ids handled, so that an update
// Telegram sends again (a poll from an offset below it, a webhook retried
// after a timeout) is not handled twice.
type dedupe struct {
	mu   sync.Mutex
	set  map[int64]struct{}
	ring []int64
	pos  int
}

func newDedupe(window int) *dedupe {
	return &dedupe{set: make(map[int64]struct{}, window), ring: make([]int64, window)}
}

// add records id.
func (d *dedupe) add(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addLocked(id)
}

func (d *dedupe) addLocked(id int64) {
	if _, dup := d.set[id]; dup {
		return
	}
	if old := d.ring[d.pos]; old != 0 {
		delete(d.set, old)
	}
	d.ring[d.pos] = id
	d.pos = (d.pos + 1) % len(d.ring)
	d.set[id] = struct{}{}
}

// has reports whether id was handled.
func (d *dedupe) has(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.set[id]
	return ok
}
