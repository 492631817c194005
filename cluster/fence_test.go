package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
)

// An owner whose lease another process took (it paused past its term)
// cannot acknowledge what it handled: the entry stays pending for the
// lease's holder, and the owner gives the partition up.
func TestFencedOwnerCannotAcknowledge(t *testing.T) {
	addr := startRedis(t)
	cfg := cluster.Config{Partitions: 1, Lease: 3 * time.Second}
	r := newRecord()
	r.gate, r.entered = make(chan struct{}), make(chan string, 1)
	// Balancing rounds and renewals happen only when the test moves the
	// clock: none comes between the lease's loss and the acknowledgement.
	clk := clocktest.New(time.Now())
	a := startProc(t, single(addr), "t", "a", cfg, r, cluster.WithClock(clk))
	clk.NextWait(t) // the first round, which only announces a
	clk.Advance(time.Second)
	awaitOwned(t, 1, a)
	ctx := context.Background()
	if err := a.in.Deliver(ctx, "k", msg{Key: "k", N: 1}, newScope("k"), nil); err != nil {
		t.Fatal(err)
	}
	<-r.entered
	// The lease passes to another process while the handler runs.
	c := client(t, addr)
	if err := c.Set(ctx, "t:intake:{0}:lease", "other:1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	close(r.gate)
	deadline := time.Now().Add(10 * time.Second)
	for a.node.Counters().Lost == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the fenced owner did not give the partition up: %+v", a.node.Counters())
		}
		time.Sleep(5 * time.Millisecond) // polling a counter set by the acknowledging goroutine
	}
	if got := a.node.Counters().Handled; got != 0 {
		t.Errorf("acknowledged %d entries with a lease it lost, want 0", got)
	}
	p, err := c.XPending(ctx, "t:intake:{0}", "owners").Result()
	if err != nil {
		t.Fatal(err)
	}
	if p.Count != 1 {
		t.Errorf("pending entries: %d, want 1 (the fenced owner's acknowledgement must not count)", p.Count)
	}
	if owned := a.node.Owned(); len(owned) != 0 {
		t.Errorf("fenced owner still owns %v", owned)
	}
	if err := c.Del(ctx, "t:intake:{0}:lease").Err(); err != nil {
		t.Fatal(err)
	}
}
