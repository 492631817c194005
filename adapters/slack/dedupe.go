package slack

import (
	"sync"
	"time"
)

// claim results.
const (
	claimNew      = iota // first sight: deliver it
	claimAccepted        // acknowledged before: acknowledge, deliver nothing
	claimBusy            // a delivery of the same id is under way
)

// dedupe remembers the ids of acknowledged events for a window, so that
// Slack's retries of an event the adapter already acknowledged (the
// acknowledgement was lost or late) are acknowledged again without being
// delivered twice. An id is remembered as accepted only once the event was
// acknowledged: a delivery given up is released, and its retry delivers
// it.
type dedupe struct {
	mu     sync.Mutex
	window time.Duration
	size   int
	now    func() time.Time
	ids    map[string]seenID
	order  []orderRec // insertion order, oldest first, for expiry
	seq    uint64
}

type seenID struct {
	accepted bool
	seq      uint64
	settled  chan struct{} // closed when a claim under way settles
}

type orderRec struct {
	id  string
	seq uint64
	at  time.Time
}

func newDedupe(window time.Duration, size int, now func() time.Time) *dedupe {
	return &dedupe{window: window, size: size, now: now, ids: make(map[string]seenID)}
}

// claim records id as being delivered, unless it was accepted or is being
// delivered already.
func (d *dedupe) claim(id string) int {
	c, _ := d.claimWait(id)
	return c
}

// claimWait is claim that also returns, for claimBusy, a channel closed
// when the delivery under way settles, so that a duplicate can wait for
// its original's fate.
func (d *dedupe) claimWait(id string) (int, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.expireLocked(now)
	if s, ok := d.ids[id]; ok {
		if s.accepted {
			return claimAccepted, nil
		}
		return claimBusy, s.settled
	}
	d.seq++
	d.ids[id] = seenID{seq: d.seq, settled: make(chan struct{})}
	d.order = append(d.order, orderRec{id: id, seq: d.seq, at: now})
	return claimNew, nil
}

// accepted reports whether id was acknowledged.
func (d *dedupe) accepted(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ids[id].accepted
}

// done settles a claim: accepted ids are remembered, others forgotten so
// that a retry is delivered.
func (d *dedupe) done(id string, accepted bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.ids[id]
	if !ok || s.accepted {
		return
	}
	close(s.settled)
	if accepted {
		s.accepted = true
		d.ids[id] = s
	} else {
		delete(d.ids, id)
	}
}

// expireLocked forgets ids older than the window, and the oldest ids
// beyond the size bound.
func (d *dedupe) expireLocked(now time.Time) {
	i := 0
	for ; i < len(d.order); i++ {
		r := d.order[i]
		if now.Sub(r.at) < d.window && len(d.ids) <= d.size {
			break
		}
		if s, ok := d.ids[r.id]; ok && s.seq == r.seq {
			delete(d.ids, r.id)
		}
	}
	if i > 0 {
		// Copy down rather than reslice so that the backing array does
		// not grow for ever.
		n := copy(d.order, d.order[i:])
		clear(d.order[n:])
		d.order = d.order[:n]
	}
}
