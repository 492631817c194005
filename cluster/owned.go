package cluster

import (
	"maps"
	"slices"
	"sync"
)

// owners tells a function which partitions the Node serves (OnOwned).
type owners struct {
	mu    sync.Mutex
	f     func(p int, owned bool)
	owned map[int]bool
}

// OnOwned makes f hear of each partition the Node starts serving (owned
// true: it took the lease and reads the partition) and stops serving
// (owned false: it began to give the partition up, lost it, or left),
// starting with those it serves now: so that what follows a partition's
// owner, such as the receiving of its conversations' layer channels, is
// done by one process at a time. f runs on the Node's goroutines, one
// call at a time, and must not block. A later call replaces f.
func (n *Node) OnOwned(f func(p int, owned bool)) {
	o := &n.owners
	o.mu.Lock()
	defer o.mu.Unlock()
	o.f = f
	if f == nil {
		return
	}
	for _, p := range slices.Sorted(maps.Keys(o.owned)) {
		f(p, true)
	}
}

// tell records that the Node serves p or not, and tells OnOwned's f.
func (o *owners) tell(p int, owned bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owned == nil {
		o.owned = map[int]bool{}
	}
	if o.owned[p] == owned {
		return
	}
	if owned {
		o.owned[p] = true
	} else {
		delete(o.owned, p)
	}
	if o.f != nil {
		o.f(p, owned)
	}
}
