package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/cluster"
)

// A Node reads its partitions together, but a conversation whose inbox is
// full holds up its own partition only: another partition's conversation
// is served meanwhile, and the held-up one gets every entry, in order,
// once its handler goes on.
func TestFullInboxHoldsUpItsPartitionOnly(t *testing.T) {
	addr := startRedis(t)
	const parts = 2
	slow, quick := "", ""
	for i := 0; slow == "" || quick == ""; i++ {
		switch k := key(i); cluster.Partition("fake", k, parts) {
		case 0:
			slow = k
		case 1:
			quick = k
		}
	}
	r := newRecord()
	release := make(chan struct{})
	r.gates = map[string]chan struct{}{slow: release}
	a := startProc(t, single(addr), "t", "a", cluster.Config{Partitions: parts}, r)
	awaitOwned(t, parts, a)
	ctx := context.Background()
	// One in the handler, 64 in the inbox (scope.DefaultInboxSize), and
	// more that the partition's hand-over waits to queue.
	const n = 1 + 64 + 10
	for i := 1; i <= n; i++ {
		if err := a.in.Deliver(ctx, slow, msg{Key: slow, N: i}, newScope(slow), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.in.Deliver(ctx, quick, msg{Key: quick, N: 1}, newScope(quick), nil); err != nil {
		t.Fatal(err)
	}
	r.await(t, 20*time.Second, "the other partition's conversation served", func() bool { return len(r.seen[quick]) == 1 })
	r.mu.Lock()
	held := len(r.seen[slow])
	r.mu.Unlock()
	if held != 0 {
		t.Fatalf("%d of the held-up conversation's messages handled while its handler was held", held)
	}
	close(release)
	r.await(t, 20*time.Second, "every message of the held-up conversation", func() bool { return len(r.seen[slow]) == n })
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, got := range r.seen[slow] {
		if got != i+1 {
			t.Fatalf("the held-up conversation handled %v, want 1 to %d in order", r.seen[slow], n)
		}
	}
}
