package scope_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/scope"
)

// Many scopes get work at once, from many goroutines: the handlers that
// run at once, and the goroutines of the process, stay within the pool's
// bound, and every scope's events are handled, in order.
func TestWorkersStayWithinTheirBound(t *testing.T) {
	const (
		workers   = 4
		scopes    = 300
		perScope  = 20
		producers = 8
	)
	var (
		mu       sync.Mutex
		got      = map[string][]int{}
		inFlight atomic.Int32
		maxIn    atomic.Int32
		maxG     atomic.Int64
	)
	baseline := int64(runtime.NumGoroutine())
	app := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := maxIn.Load(); n > m && !maxIn.CompareAndSwap(m, n); m = maxIn.Load() {
			}
			for g, m := int64(runtime.NumGoroutine()), maxG.Load(); g > m && !maxG.CompareAndSwap(m, g); m = maxG.Load() {
			}
			runtime.Gosched() // let the other workers overlap this handler
			if tx, ok := ev.(text); ok {
				key, i, _ := strings.Cut(tx.S, "/")
				var n int
				fmt.Sscan(i, &n)
				mu.Lock()
				got[key] = append(got[key], n)
				mu.Unlock()
			}
			return nil
		}), nil
	})
	// No sweeper, and a stall bound no handler here reaches: only the
	// workers, the producers and the watchdog may add goroutines.
	m := newManager(t, app, newProto(), scope.Config{IdleTimeout: -1, InboxSize: 4, Workers: workers, StallAfter: time.Hour})
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range perScope {
				for k := p; k < scopes; k += producers {
					key := fmt.Sprint("k", k)
					deliverText(t, m, key, fmt.Sprintf("%s/%d", key, i))
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, evs := range got {
			n += len(evs)
		}
		mu.Unlock()
		if n == scopes*perScope {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events handled", n, scopes*perScope)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising on time
	}
	for k := range scopes {
		key := fmt.Sprint("k", k)
		evs := got[key]
		for i, n := range evs {
			if n != i {
				t.Fatalf("scope %s handled %v: out of order", key, evs)
			}
		}
	}
	if n := maxIn.Load(); n > workers {
		t.Fatalf("%d handlers ran at once with %d workers", n, workers)
	}
	if g, bound := maxG.Load(), baseline+producers+workers+1; g > bound {
		t.Fatalf("%d goroutines while handlers ran, more than the %d before, %d producers, %d workers and a watchdog", g, baseline, producers, workers)
	}
	st := m.WorkerStats()
	if st.Replaced != 0 || st.Stalled != 0 || st.Queued != 0 || st.Workers > workers {
		t.Fatalf("pool after the run: %+v", st)
	}
}

// Handlers that never return hold every worker; the watchdog replaces
// them, and the other scopes are served, in order, while they hang.
func TestStalledHandlersDoNotHoldUpOtherScopes(t *testing.T) {
	const workers = 2
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	hang, started := make(chan struct{}), make(chan string, workers)
	r := newRecorder()
	r.hook = func(key string, ev event.Event) error {
		if strings.HasPrefix(key, "stuck") {
			if _, ok := ev.(text); ok {
				started <- key
				<-hang
			}
		}
		return nil
	}
	log, logs := quietLogger(t)
	const stall = 50 * time.Millisecond
	m, err := scope.NewManager(r, newProto(), scope.Config{IdleTimeout: -1, Workers: workers, StallAfter: stall},
		scope.WithLogger(log), scope.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(hang) // they never return while the test runs
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	for i := range workers {
		deliverText(t, m, fmt.Sprint("stuck", i), "x")
	}
	for range workers {
		<-started
	}
	for i := range 3 {
		for _, key := range []string{"a", "b", "c"} {
			deliverText(t, m, key, fmt.Sprint(i))
		}
	}
	if st := m.WorkerStats(); st.Queued != 3 || st.Workers != workers {
		t.Fatalf("with every worker in a hanging handler: %+v, want 3 scopes queued behind %d workers", st, workers)
	}
	select {
	case v := <-r.events:
		t.Fatalf("%s handled %v with every worker hanging", v.key, v.ev)
	default:
	}
	// The watchdog looks every StallAfter; at the second look the
	// workers are still in the handlers they were in at the first.
	for range 2 {
		if d := clock.NextWait(t); d != stall {
			t.Fatalf("the watchdog waits %v, want %v", d, stall)
		}
		clock.Advance(stall)
	}
	want := map[string]int{}
	for range 9 {
		v := next(t, r.events)
		if got := v.ev.(text).S; got != fmt.Sprint(want[v.key]) {
			t.Fatalf("scope %s: got event %s, want %d", v.key, got, want[v.key])
		}
		want[v.key]++
	}
	st := m.WorkerStats()
	if st.Replaced != workers || st.Stalled != workers {
		t.Fatalf("after the other scopes were served: %+v, want %d replaced and stalled", st, workers)
	}
	if st.Workers > workers {
		t.Fatalf("%d workers counted against a bound of %d", st.Workers, workers)
	}
	l := logs.String()
	for i := range workers {
		if !strings.Contains(l, fmt.Sprintf("scope=test:stuck%d event=test.text", i)) {
			t.Fatalf("the log does not name stalled scope stuck%d and its event:\n%s", i, l)
		}
	}
}

// A scope whose inbox stays full cannot keep the only worker from another
// scope: after a turn of InboxSize events it goes back to the end of the
// run queue.
func TestBusyScopeTakesTurns(t *testing.T) {
	r := newRecorder()
	started, release := make(chan struct{}), make(chan struct{})
	r.hook = func(key string, ev event.Event) error {
		if key == "busy" && ev == (text{"0"}) {
			close(started)
			<-release
		}
		return nil
	}
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, InboxSize: 4, Workers: 1})
	deliverText(t, m, "busy", "0")
	<-started
	for i := 1; i <= 4; i++ {
		deliverText(t, m, "busy", fmt.Sprint(i))
	}
	deliverText(t, m, "other", "x") // queued behind busy's worker
	// busy's inbox is full: its fifth event waits for room.
	done := make(chan error)
	go func() { done <- m.Deliver(context.Background(), "busy", text{"5"}, newScope) }()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var order []string
	for range 7 {
		v := next(t, r.events)
		order = append(order, v.key+":"+v.ev.(text).S)
	}
	// busy's turn: "0" (handled while the others were queued) and three
	// more make four events, then "other" gets the worker.
	want := "busy:0 busy:1 busy:2 busy:3 other:x busy:4 busy:5"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("handled %s, want %s", got, want)
	}
}

// Shutdown drains the scopes queued behind a worker whose handler hangs:
// the watchdog goes on replacing it after the stop, each queued scope
// handles its events and then its disconnect, and Shutdown returns once
// the hanging handler does.
func TestShutdownServesScopesQueuedBehindAStalledWorker(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	r := newRecorder()
	r.hook = func(key string, ev event.Event) error {
		if key == "stuck" && ev == (text{"x"}) {
			close(started)
			<-release // ignores its context
		}
		return nil
	}
	log, _ := quietLogger(t)
	m, err := scope.NewManager(r, newProto(), scope.Config{IdleTimeout: -1, Workers: 1, StallAfter: 5 * time.Millisecond},
		scope.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	deliverText(t, m, "stuck", "x")
	<-started
	deliverText(t, m, "a", "1")
	deliverText(t, m, "b", "1")
	done := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done <- m.Shutdown(ctx)
	}()
	got := map[string][]event.Event{}
	for range 4 {
		v := next(t, r.events)
		got[v.key] = append(got[v.key], v.ev)
	}
	want := fmt.Sprint([]event.Event{text{"1"}, bye{scope.ReasonShutdown}})
	for _, key := range []string{"a", "b"} {
		if fmt.Sprint(got[key]) != want {
			t.Fatalf("%s saw %v, want %s", key, got[key], want)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a handler still ran", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if v := next(t, r.events); v.key != "stuck" || v.ev != (text{"x"}) {
		t.Fatalf("got %+v, want the stuck scope's event", v)
	}
	if v := next(t, r.events); v.key != "stuck" || v.ev != (bye{scope.ReasonShutdown}) {
		t.Fatalf("got %+v, want the stuck scope's disconnect", v)
	}
	if st := m.WorkerStats(); st.Replaced == 0 {
		t.Fatalf("no worker was replaced: %+v", st)
	}
}
