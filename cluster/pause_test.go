package cluster_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
)

// pausable is a clock a test can make jump on without firing its timers:
// what a process sees when it wakes from a pause, before its loops ran.
type pausable struct {
	*clocktest.Clock
	skip atomic.Int64 // nanoseconds jumped over
}

func (c *pausable) Now() time.Time { return c.Clock.Now().Add(time.Duration(c.skip.Load())) }

// jump makes Now d later at once.
func (c *pausable) jump(d time.Duration) { c.skip.Add(int64(d)) }

// hold stops an owner's reading goroutine the next time it is about to
// read, once armed, until released.
type hold struct {
	mu      sync.Mutex
	armed   bool
	held    chan struct{} // closed when the owner is held
	release chan struct{} // closed to let it go
}

func newHold(armed bool) *hold {
	return &hold{armed: armed, held: make(chan struct{}), release: make(chan struct{})}
}

func (h *hold) arm() {
	h.mu.Lock()
	h.armed = true
	h.mu.Unlock()
}

// hook is the owner's read hook.
func (h *hold) hook(int) {
	h.mu.Lock()
	armed := h.armed
	h.armed = false
	h.mu.Unlock()
	if !armed {
		return
	}
	close(h.held)
	<-h.release
}

// await waits until the owner is held.
func (h *hold) await(t *testing.T, who string) {
	t.Helper()
	select {
	case <-h.held:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s was not held before a read within 10s", who)
	}
}

// An owner paused past its lease (a long GC pause, a stopped process)
// takes nothing once it wakes: what was appended meanwhile is the next
// owner's, handled once each and in order, and the next owner's trims do
// not pass it. The owner's own clock may tell it that its term ended, or
// not (its renewal reached Redis late, a network split): Redis' lease is
// what counts.
func TestPausedOwnerTakesNothing(t *testing.T) {
	t.Run("its clock jumped", func(t *testing.T) { pausedOwnerTakesNothing(t, true) })
	t.Run("its clock did not", func(t *testing.T) { pausedOwnerTakesNothing(t, false) })
}

func pausedOwnerTakesNothing(t *testing.T, jump bool) {
	addr := startRedis(t)
	const lease = 10 * time.Second
	cfg := cluster.Config{Partitions: 1, Lease: lease}
	r := newRecord()
	start := time.Now()
	ctx := context.Background()
	c := client(t, addr)

	clkA := &pausable{Clock: clocktest.New(start)}
	holdA := newHold(false)
	a := startProc(t, single(addr), "t", "a", cfg, r, cluster.WithClock(clkA), cluster.WithReadHook(holdA.hook))
	clkA.NextWait(t) // the first round, which only announces a
	clkA.Advance(lease / 3)
	awaitOwned(t, 1, a)
	if err := a.in.Deliver(ctx, "k", msg{Key: "k", N: 1}, newScope("k"), nil); err != nil {
		t.Fatal(err)
	}
	r.await(t, 10*time.Second, "#1 handled", func() bool { return len(r.seen["k"]) == 1 })
	awaitCounter(t, "a acknowledged #1", func() bool { return a.node.Counters().Handled == 1 })

	// a stops, waiting for entries, and stays stopped past its lease: its
	// lease and its membership expire; its clock jumps on, or not.
	holdA.arm()
	if jump {
		clkA.jump(2 * lease)
	}
	if err := c.Del(ctx, "t:intake:{0}:lease").Err(); err != nil {
		t.Fatal(err)
	}

	// b takes the partition over (its clock is past a's membership), and
	// is held before its first read, after its claim.
	clkB := clocktest.New(start.Add(3 * lease))
	holdB := newHold(true)
	b := startProc(t, single(addr), "t", "b", cfg, r, cluster.WithClock(clkB), cluster.WithReadHook(holdB.hook))
	clkB.NextWait(t)
	clkB.Advance(lease / 3)
	holdB.await(t, "b")
	for n := 2; n <= 5; n++ {
		if err := b.in.Deliver(ctx, "k", msg{Key: "k", N: n}, newScope("k"), nil); err != nil {
			t.Fatal(err)
		}
	}

	// a wakes to new entries, and reads on.
	holdA.await(t, "a")
	close(holdA.release)
	awaitCounter(t, "a gave the partition up", func() bool { return a.node.Counters().Lost == 1 })
	close(holdB.release)
	if err := b.in.Deliver(ctx, "k", msg{Key: "k", N: 6}, newScope("k"), nil); err != nil {
		t.Fatal(err)
	}
	want := []int{1, 2, 3, 4, 5, 6}
	r.await(t, 5*time.Second, "#6 handled", func() bool { return slices.Contains(r.seen["k"], 6) })
	r.mu.Lock()
	got, by := slices.Clone(r.seen["k"]), slices.Clone(r.by["k"])
	r.mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("handled %v, want %v", got, want)
	}
	if len(by) < 2 || slices.ContainsFunc(by[1:], func(s string) bool { return s != "b" }) {
		t.Errorf("#2 on handled by %v, want b each", by[1:])
	}
	if got := a.node.Counters().Handled; got != 1 {
		t.Errorf("a acknowledged %d entries, want 1 (#1)", got)
	}

	// b gives the partition up (its last acknowledgement trims); nothing
	// is left pending, and only what was handled was trimmed away.
	b.shutdown(t)
	p, err := c.XPending(ctx, "t:intake:{0}", "owners").Result()
	if err != nil {
		t.Fatal(err)
	}
	if p.Count != 0 {
		t.Errorf("%d entries left pending, want 0", p.Count)
	}
}

// awaitCounter waits until cond, on a Node's counters, holds.
func awaitCounter(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling counters set by the Node's goroutines
	}
}

// stalling is the wall clock, except that every third timer fires late by
// stall: a process whose balancing loop is starved (a loaded machine, a
// long GC pause) renews its leases too late, and loses them, while its
// reading and handling go on.
type stalling struct {
	stall time.Duration
	n     atomic.Int64
}

func (*stalling) Now() time.Time { return time.Now() }

func (c *stalling) After(d time.Duration) <-chan time.Time {
	if c.n.Add(1)%3 == 0 {
		d += c.stall
	}
	return time.After(d)
}

// Messages taken while one of three processes keeps losing its leases
// mid-stream, and partitions move between the three, are all handled:
// lost leases may make duplicates, never losses.
func TestLeasesLostMidStream(t *testing.T) {
	addr := startRedis(t)
	const lease = 300 * time.Millisecond
	cfg := cluster.Config{Partitions: 16, Lease: lease}
	r := newRecord()
	r.hold = time.Millisecond
	a := startProc(t, single(addr), "t", "a", cfg, r, cluster.WithClock(&stalling{stall: 2 * lease}))
	b := startProc(t, single(addr), "t", "b", cfg, r)
	c := startProc(t, single(addr), "t", "c", cfg, r)
	procs := []*proc{a, b, c}

	const convs, per = 30, 20
	ctx := context.Background()
	for n := 1; n <= per; n++ {
		for i := range convs {
			p := procs[(n+i)%len(procs)]
			if err := p.in.Deliver(ctx, key(i), msg{Key: key(i), N: n}, newScope(key(i)), nil); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(lease / 10) // spreads the messages over the leases' losses
	}
	r.await(t, 30*time.Second, "every message handled", func() bool {
		for i := range convs {
			for n := 1; n <= per; n++ {
				if !slices.Contains(r.seen[key(i)], n) {
					return false
				}
			}
		}
		return true
	})
	r.mu.Lock()
	dups := r.total - convs*per
	r.mu.Unlock()
	lost := a.node.Counters().Lost
	t.Logf("a lost %d leases; %d of %d messages handled twice", lost, dups, convs*per)
	if lost == 0 {
		t.Error("a lost no lease: the test did not test what it is for")
	}
}

// A new owner claims what a dead owner left pending, in order; a pending
// entry that is no longer in the stream is counted as dropped, not
// skipped silently.
func TestClaimCountsVanishedEntries(t *testing.T) {
	addr := startRedis(t)
	cfg := cluster.Config{Partitions: 1, Lease: 3 * time.Second}
	ctx := context.Background()
	c := client(t, addr)
	appender, err := cluster.New(c, "t", cfg)
	if err != nil {
		t.Fatal(err)
	}
	const stream = "t:intake:{0}"
	if err := c.XGroupCreateMkStream(ctx, stream, "owners", "0").Err(); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		sc := newScope("k")()
		sc.Key = "k"
		if err := appender.Append(ctx, adapters.Record{Adapter: "fake", Key: "k", Scope: sc, Event: msg{Key: "k", N: n}}); err != nil {
			t.Fatal(err)
		}
	}
	// A dead owner read all three; the first then vanished from the stream.
	res, err := c.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: "owners", Consumer: "dead", Streams: []string{stream, ">"}, Count: 3}).Result()
	if err != nil || len(res) != 1 || len(res[0].Messages) != 3 {
		t.Fatalf("the dead owner's read: %v %v", res, err)
	}
	if err := c.XDel(ctx, stream, res[0].Messages[0].ID).Err(); err != nil {
		t.Fatal(err)
	}

	r := newRecord()
	a := startProc(t, single(addr), "t", "a", cfg, r)
	r.await(t, 10*time.Second, "#2 and #3 handled", func() bool { return len(r.seen["k"]) >= 2 })
	r.mu.Lock()
	got := slices.Clone(r.seen["k"])
	r.mu.Unlock()
	if !slices.Equal(got, []int{2, 3}) {
		t.Errorf("handled %v, want [2 3]", got)
	}
	awaitCounter(t, "the vanished entry counted", func() bool { return a.node.Counters().Dropped == 1 })
	if got := a.node.Counters().Claimed; got != 2 {
		t.Errorf("claimed %d, want 2", got)
	}
}
