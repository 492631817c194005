package cluster_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/cluster"
)

// 100,000 conversations live across three processes hold no goroutine
// while idle: each process keeps its share as scopes, and the intake keeps
// nothing per conversation.
func TestIdleConversationsHoldNoGoroutine(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 100,000 events")
	}
	addr := startRedis(t)
	cfg := cluster.Config{Partitions: 16, Lease: 2 * time.Second}
	r := newRecord()
	procs := []*proc{startProc(t, single(addr), "t", "a", cfg, r), startProc(t, single(addr), "t", "b", cfg, r),
		startProc(t, single(addr), "t", "c", cfg, r)}
	awaitOwned(t, 16, procs...)
	const convs, senders = 100_000, 32
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Go(func() {
			p := procs[s%len(procs)]
			for i := s; i < convs; i += senders {
				k := "u" + strconv.Itoa(i)
				if err := p.in.Deliver(context.Background(), k, msg{Key: k, N: 1}, newScope(k), nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r.await(t, 5*time.Minute, "every conversation handled", func() bool { return r.total >= convs })
	live := 0
	for _, p := range procs {
		live += p.host.Len()
	}
	goroutines := runtime.NumGoroutine()
	t.Logf("%d conversations live across 3 processes, %d goroutines in the test binary", live, goroutines)
	if live != convs {
		t.Errorf("%d live conversations, want %d", live, convs)
	}
	if goroutines > 1000 {
		t.Errorf("%d goroutines for %d idle conversations", goroutines, convs)
	}
}
