package cluster_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/event"
)

// holdFirst is a go-redis hook that counts the pipelines that carry an
// XADD and the XADDs sent alone, and holds the first such pipeline until
// release is closed. (A new connection's own handshake is not counted.)
type holdFirst struct {
	pipelines, singles atomic.Int64
	held               chan struct{} // closed once the first pipeline is held
	release            chan struct{}
}

func (h *holdFirst) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *holdFirst) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if cmd.Name() == "xadd" {
			h.singles.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *holdFirst) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if !slices.ContainsFunc(cmds, func(c goredis.Cmder) bool { return c.Name() == "xadd" }) {
			return next(ctx, cmds)
		}
		if h.pipelines.Add(1) == 1 {
			close(h.held)
			<-h.release
		}
		return next(ctx, cmds)
	}
}

// Appends made while a round trip is under way go to Redis together, in
// the next pipeline, and each of them is appended.
func TestAppendsShareRoundTrips(t *testing.T) {
	c := client(t, startRedis(t))
	h := &holdFirst{held: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(h)
	node, err := cluster.New(c, "t", cluster.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := func(i int) adapters.Record {
		return adapters.Record{Adapter: "fake", Key: key(i), Scope: newScope(key(i))(), Event: msg{Key: key(i), N: 1}}
	}
	const n = 50
	errs := make(chan error, n)
	go func() { errs <- node.Append(ctx, rec(0)) }()
	<-h.held
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() { errs <- node.Append(ctx, rec(i)) })
	}
	for deadline := time.Now().Add(10 * time.Second); node.Queued() < n-1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", node.Queued(), n-1)
		}
		time.Sleep(time.Millisecond) // appends on their way to the queue
	}
	close(h.release)
	wg.Wait()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := h.pipelines.Load(); got != 2 {
		t.Errorf("%d pipelines for %d appends, want 2: the first, and one for the rest", got, n)
	}
	if got := h.singles.Load(); got != 0 {
		t.Errorf("%d commands sent alone, want 0", got)
	}
	var total int64
	for p := range 4 {
		total += c.XLen(ctx, "t:intake:{"+strconv.Itoa(p)+"}").Val()
	}
	if total != n {
		t.Errorf("%d entries in the streams, want %d", total, n)
	}
	if got := node.Counters().Appended; got != n {
		t.Errorf("Appended = %d, want %d", got, n)
	}
}

// An Append whose context ends while it waits for its round trip returns
// the context's error at once.
func TestAppendGivesUpWithItsContext(t *testing.T) {
	c := client(t, startRedis(t))
	h := &holdFirst{held: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(h)
	node, err := cluster.New(c, "t", cluster.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	r := adapters.Record{Adapter: "fake", Key: key(0), Scope: newScope(key(0))(), Event: msg{Key: key(0), N: 1}}
	go func() { first <- node.Append(context.Background(), r) }()
	<-h.held
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- node.Append(ctx, r) }()
	for deadline := time.Now().Add(10 * time.Second); node.Queued() < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the second append never queued")
		}
		time.Sleep(time.Millisecond) // the append on its way to the queue
	}
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("Append with its context cancelled = %v, want context.Canceled", err)
	}
	close(h.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := node.Counters().Appended; got != 1 {
		t.Errorf("Appended = %d, want 1", got)
	}
}

// Scripts run by EvalSha fall back to Eval when Redis forgot them (a
// restart, a failover): reads and acknowledgements go on.
func TestScriptsSurviveAFlush(t *testing.T) {
	addr := startRedis(t)
	r := newRecord()
	a := startProc(t, single(addr), "t", "a", cluster.Config{Partitions: 4}, r)
	awaitOwned(t, 4, a)
	ctx := context.Background()
	admin := client(t, addr)
	for round := range 3 {
		if err := admin.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := a.in.Deliver(ctx, key(i), msg{Key: key(i), N: round + 1}, newScope(key(i)), nil); err != nil {
				t.Fatal(err)
			}
		}
		want := 10 * (round + 1)
		r.await(t, 20*time.Second, "every message handled", func() bool { return r.total >= want })
	}
	awaitCounter(t, "every entry acknowledged", func() bool { return a.node.Counters().Handled == 30 })
}

// A batch goes to Redis in one pipeline, each conversation's records in
// the batch's order; a record that cannot travel fails alone, with
// adapters.ErrNotDurable.
func TestAppendBatchIsOnePipeline(t *testing.T) {
	c := client(t, startRedis(t))
	h := &holdFirst{held: make(chan struct{}), release: make(chan struct{})}
	close(h.release)
	c.AddHook(h)
	node, err := cluster.New(c, "t", cluster.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 20
	rs := make([]adapters.Record, n)
	for i := range rs {
		k := key(i % 2)
		rs[i] = adapters.Record{Adapter: "fake", Key: k, Scope: newScope(k)(), Event: msg{Key: k, N: i}}
	}
	rs[7].Scope.SetAdapterValue(struct{ conn int }{1}) // not a plain value
	errs := make([]error, n)
	node.AppendBatch(ctx, rs, errs)
	for i, err := range errs {
		if i == 7 {
			if !errors.Is(err, adapters.ErrNotDurable) {
				t.Errorf("record 7: %v, want ErrNotDurable", err)
			}
		} else if err != nil {
			t.Errorf("record %d: %v", i, err)
		}
	}
	if got := h.pipelines.Load(); got != 1 {
		t.Errorf("%d pipelines for a batch, want 1", got)
	}
	if got := node.Counters().Appended; got != n-1 {
		t.Errorf("%d appended, want %d", got, n-1)
	}
	for conv := range 2 {
		p := cluster.Partition("fake", key(conv), 4)
		entries, err := c.XRange(ctx, "t:intake:{"+strconv.Itoa(p)+"}", "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var got, want []int
		for i := conv; i < n; i += 2 {
			if i != 7 {
				want = append(want, i)
			}
		}
		for _, e := range entries {
			if e.Values["k"] != key(conv) {
				continue
			}
			data, _ := e.Values["e"].(string)
			m, err := event.UnmarshalAs[msg]([]byte(data))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.N)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: appended %v, want %v", key(conv), got, want)
		}
	}
}
