package cluster_test

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/cluster"
)

// OnOwned hears of the partitions a Node serves now, then of each it
// takes and gives up: once a second Node joined, what it heard is what
// the first owns.
func TestOnOwnedFollowsThePartitions(t *testing.T) {
	addr := startRedis(t)
	cfg := cluster.Config{Partitions: 4, Lease: 600 * time.Millisecond}
	r := newRecord()
	a := startProc(t, single(addr), "t", "a", cfg, r)
	awaitOwned(t, 4, a)
	var mu sync.Mutex
	heard := map[int]bool{}
	a.node.OnOwned(func(p int, owned bool) {
		mu.Lock()
		defer mu.Unlock()
		if heard[p] == owned {
			t.Errorf("partition %d: told owned=%v twice", p, owned)
		}
		heard[p] = owned
	})
	owned := func() []int {
		mu.Lock()
		defer mu.Unlock()
		var out []int
		for p, o := range heard {
			if o {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := owned(); len(got) != 4 {
		t.Fatalf("OnOwned replayed %v, want the 4 partitions owned", got)
	}
	b := startProc(t, single(addr), "t", "b", cfg, r)
	awaitOwned(t, 4, a, b)
	deadline := time.Now().Add(10 * time.Second)
	for {
		want := slices.Sorted(slices.Values(a.node.Owned()))
		got := owned()
		if slices.Equal(got, want) && len(got) < 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OnOwned heard %v owned, the Node owns %v", got, want)
		}
		time.Sleep(10 * time.Millisecond) // polling leases renewed on the wall clock
	}
	mu.Lock()
	gaveUp := slices.Collect(maps.Keys(heard))
	mu.Unlock()
	if len(gaveUp) != 4 {
		t.Fatalf("heard of %v, want all 4 partitions", gaveUp)
	}
}
