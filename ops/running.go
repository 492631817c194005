package ops

import (
	"sort"
	"time"
)

// RunningHandler is a handler that the last scan found running longer
// than the threshold and that is still handling the same event.
type RunningHandler struct {
	// Adapter and Key name the conversation, Event the event type.
	Adapter, Key, Event string
	// For is how long it has run, as of the call.
	For time.Duration
}

// Running returns up to n handlers that the last scan found running over
// the threshold and that still run the same event, the longest first: what
// a status page shows as stuck. It rereads only those handlers, not every
// scope, so it is cheap enough to call once a second; one that slowed down
// after the last scan shows from the next scan on.
func (w *SlowHandlers) Running(n int) []RunningHandler {
	w.mu.Lock()
	var found []slowOne
	var adapters []string
	for a, l := range w.slow {
		for _, one := range l {
			found = append(found, one)
			adapters = append(adapters, a)
		}
	}
	w.mu.Unlock()
	now := w.clock()
	out := make([]RunningHandler, 0, len(found))
	for i, one := range found {
		one.x.mu.Lock()
		start, seq := one.x.start, one.x.seq
		one.x.mu.Unlock()
		if start == 0 || seq != one.seq {
			continue // it returned since the scan
		}
		out = append(out, RunningHandler{Adapter: adapters[i], Key: one.key, Event: one.typ, For: time.Duration(now - start)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].For > out[j].For })
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
