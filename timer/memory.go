package timer

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

var _ Store = (*Memory)(nil)

// Memory is the in-memory Store: one process's timers, lost when it ends.
// The zero value is ready to use.
type Memory struct {
	mu       sync.Mutex
	adapters map[string]*queue
	tokens   int64 // claim tokens: one sequence, so none repeats
}

// queue is one adapter's timers, ordered by when each is next due (its At,
// or its lease's end once claimed).
type queue struct {
	byID map[string]*item
	h    itemHeap
}

type item struct {
	t     Timer
	due   int64 // Unix nanoseconds
	token int64 // of the current claim; 0 while unclaimed
	index int
}

func (m *Memory) queue(adapter string) *queue {
	if m.adapters == nil {
		m.adapters = make(map[string]*queue)
	}
	q := m.adapters[adapter]
	if q == nil {
		q = &queue{byID: make(map[string]*item)}
		m.adapters[adapter] = q
	}
	return q
}

// Schedule implements Store.
func (m *Memory) Schedule(_ context.Context, timers ...Timer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range timers {
		q := m.queue(t.Adapter)
		id := ID(t.Key, t.Name)
		if it, ok := q.byID[id]; ok {
			it.t, it.due, it.token = t, t.At.UnixNano(), 0
			heap.Fix(&q.h, it.index)
			continue
		}
		it := &item{t: t, due: t.At.UnixNano()}
		q.byID[id] = it
		heap.Push(&q.h, it)
	}
	return nil
}

// Cancel implements Store.
func (m *Memory) Cancel(_ context.Context, adapter, key, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queue(adapter)
	it, ok := q.byID[ID(key, name)]
	if ok {
		q.remove(it)
	}
	return ok, nil
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, adapter string, now time.Time, max int, lease time.Duration) ([]Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queue(adapter)
	var out []Claim
	for len(out) < max && q.h.Len() > 0 && q.h[0].due <= now.UnixNano() {
		it := q.h[0]
		m.tokens++
		it.token = m.tokens
		it.due = now.Add(lease).UnixNano()
		heap.Fix(&q.h, 0)
		out = append(out, Claim{Timer: it.t, Token: it.token})
	}
	return out, nil
}

// Ack implements Store.
func (m *Memory) Ack(_ context.Context, claims ...Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range claims {
		q := m.queue(c.Adapter)
		if it, ok := q.byID[ID(c.Key, c.Name)]; ok && it.token == c.Token {
			q.remove(it)
		}
	}
	return nil
}

// Len returns the number of timers pending, claimed ones included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, q := range m.adapters {
		n += len(q.byID)
	}
	return n
}

func (q *queue) remove(it *item) {
	delete(q.byID, ID(it.t.Key, it.t.Name))
	heap.Remove(&q.h, it.index)
}

type itemHeap []*item

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *itemHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
