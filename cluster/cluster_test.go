package cluster_test

import (
	"context"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/cluster"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// awaitOwned waits until procs own every partition between them, each
// partition once, and each of them some.
func awaitOwned(t *testing.T, parts int, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var all []int
		for _, p := range procs {
			all = append(all, p.node.Owned()...)
		}
		slices.Sort(all)
		each := true
		for _, p := range procs {
			each = each && len(p.node.Owned()) > 0
		}
		if each && len(all) == parts && len(slices.Compact(all)) == parts {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions owned: %v, want each of %d once", all, parts)
		}
		time.Sleep(10 * time.Millisecond) // polling leases renewed on the wall clock
	}
}

// Events taken by any process are handled once each, each conversation in
// order and by one instance at a time, while a process joins mid-stream.
func TestOneOwnerPerConversation(t *testing.T) {
	oneOwnerPerConversation(t, single(startRedis(t)))
}

// The same on a Redis Cluster of three masters: each partition's keys
// share a hash tag, so its scripts run on one slot.
func TestOneOwnerPerConversationOnRedisCluster(t *testing.T) {
	oneOwnerPerConversation(t, startRedisCluster(t))
}

func oneOwnerPerConversation(t *testing.T, addr func(testing.TB) goredis.UniversalClient) {
	// A short lease, so that a loaded machine's pauses lose some leases
	// mid-stream, while partitions move: nothing may be lost for it.
	cfg := cluster.Config{Partitions: 16, Lease: 300 * time.Millisecond}
	r := newRecord()
	r.hold = time.Millisecond
	a := startProc(t, addr, "t", "a", cfg, r)
	b := startProc(t, addr, "t", "b", cfg, r)
	awaitOwned(t, 16, a, b)

	const convs, per = 30, 20
	ctx := context.Background()
	procs := []*proc{a, b}
	var c *proc
	for n := 1; n <= per; n++ {
		if n == per/2 {
			c = startProc(t, addr, "t", "c", cfg, r) // joins mid-stream: partitions move
			procs = append(procs, c)
		}
		for i := range convs {
			p := procs[(n+i)%len(procs)]
			if err := p.in.Deliver(ctx, key(i), msg{Key: key(i), N: n}, newScope(key(i)), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.await(t, 20*time.Second, "every message handled", func() bool { return r.total >= convs*per })
	awaitOwned(t, 16, a, b, c)

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.overlaps) > 0 {
		t.Errorf("two instances of a conversation handled at once: %v", r.overlaps)
	}
	if r.total != convs*per {
		t.Errorf("handled %d, want %d", r.total, convs*per)
	}
	for i := range convs {
		want := make([]int, per)
		for n := range want {
			want[n] = n + 1
		}
		if got := r.seen[key(i)]; !slices.Equal(got, want) {
			t.Errorf("%s handled %v, want %v", key(i), got, want)
		}
	}
	moved := 0
	for i := range convs {
		if by := slices.Compact(slices.Clone(r.by[key(i)])); len(by) > 1 {
			moved++
		}
	}
	if moved > 0 && r.moved == 0 {
		t.Errorf("%d conversations moved, but no scope ended with reason moved", moved)
	}
	t.Logf("%d of %d conversations moved between processes, %d scopes ended as moved; counters a=%+v b=%+v c=%+v",
		moved, convs, r.moved, a.node.Counters(), b.node.Counters(), c.node.Counters())
}

// A platform's retry, taken by another process, is handled once.
func TestDuplicatesDropped(t *testing.T) {
	addr := startRedis(t)
	cfg := cluster.Config{Partitions: 4, Lease: 300 * time.Millisecond}
	r := newRecord()
	a := startProc(t, single(addr), "t", "a", cfg, r)
	b := startProc(t, single(addr), "t", "b", cfg, r)
	awaitOwned(t, 4, a, b)
	ctx := context.Background()
	for i, p := range []*proc{a, b, a} {
		acked := make(chan error, 1)
		m := msg{Key: "k", N: 1, ID: "update-7"}
		if err := p.in.Deliver(ctx, "k", m, newScope("k"), func(err error) { acked <- err }); err != nil {
			t.Fatal(err)
		}
		if err := <-acked; err != nil {
			t.Fatalf("delivery %d: ack %v, want nil: a duplicate is safe to acknowledge", i, err)
		}
	}
	if err := a.in.Deliver(ctx, "k", msg{Key: "k", N: 2, ID: "update-8"}, newScope("k"), nil); err != nil {
		t.Fatal(err)
	}
	r.await(t, 10*time.Second, "update-8 handled", func() bool { return len(r.seen["k"]) >= 2 })
	r.mu.Lock()
	got := slices.Clone(r.seen["k"])
	r.mu.Unlock()
	if !slices.Equal(got, []int{1, 2}) {
		t.Errorf("handled %v, want [1 2]", got)
	}
	if d := a.node.Counters().Duplicates + b.node.Counters().Duplicates; d != 2 {
		t.Errorf("duplicates counted: %d, want 2", d)
	}
}

// A killed owner's partitions resume on another process within two lease
// times, with what it took and had not handled.
func TestFailover(t *testing.T) {
	addr := startRedis(t)
	const lease = 600 * time.Millisecond
	cfg := cluster.Config{Partitions: 8, Lease: lease}
	r := newRecord()
	a := startProc(t, single(addr), "t", "a", cfg, r)
	b := startProc(t, single(addr), "t", "b", cfg, r)
	awaitOwned(t, 8, a, b)
	if len(a.node.Owned()) == 0 {
		t.Fatal("a owns no partition")
	}
	ctx := context.Background()
	// Warm every conversation up, so that each has been served.
	for i := range 20 {
		if err := b.in.Deliver(ctx, key(i), msg{Key: key(i), N: 1}, newScope(key(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	r.await(t, 10*time.Second, "warm-up", func() bool { return r.total >= 20 })
	var onA []int
	for i := range 20 {
		r.mu.Lock()
		by := r.by[key(i)][0]
		r.mu.Unlock()
		if by == "a" {
			onA = append(onA, i)
		}
	}
	if len(onA) == 0 {
		t.Fatal("no conversation was served by a")
	}

	killed := time.Now()
	a.node.Abandon()
	for _, i := range onA {
		if err := b.in.Deliver(ctx, key(i), msg{Key: key(i), N: 2}, newScope(key(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	r.await(t, 2*lease+time.Second, "a's conversations resumed", func() bool {
		for _, i := range onA {
			if !slices.Contains(r.seen[key(i)], 2) {
				return false
			}
		}
		return true
	})
	took := time.Since(killed)
	t.Logf("a's %d conversations resumed on b %v after a stopped (lease %v, %.2f× the lease)",
		len(onA), took.Round(time.Millisecond), lease, float64(took)/float64(lease))
	if took > 2*lease {
		t.Errorf("resumed after %v, want within 2 × %v", took, lease)
	}
	for _, i := range onA {
		r.mu.Lock()
		by, seen := slices.Clone(r.by[key(i)]), slices.Clone(r.seen[key(i)])
		r.mu.Unlock()
		if by[len(by)-1] != "b" || seen[len(seen)-1] != 2 {
			t.Errorf("%s: handlers %v of numbers %v, want message 2 last, by b", key(i), by, seen)
		}
	}
	awaitOwned(t, 8, b)
}
