package telegram

import "sync"

// dedupe remembers the most recent update_ids, so that an update Telegram
// delivers twice (a poll repeated after a failure, a webhook retried after
// a timeout) reaches its scope once.
type dedupe struct {
	mu   sync.Mutex
	set  map[int64]struct{}
	ring []int64
	pos  int
}

func newDedupe(window int) *dedupe {
	return &dedupe{set: make(map[int64]struct{}, window), ring: make([]int64, window)}
}

// add records id and reports whether it was new.
func (d *dedupe) add(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.set[id]; dup {
		return false
	}
	if old := d.ring[d.pos]; old != 0 {
		delete(d.set, old)
	}
	d.ring[d.pos] = id
	d.pos = (d.pos + 1) % len(d.ring)
	d.set[id] = struct{}{}
	return true
}

// remove forgets id, for an update that was not accepted after all and
// must be taken when it comes again.
func (d *dedupe) remove(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.set, id)
}
