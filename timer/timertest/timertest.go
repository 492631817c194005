// Package timertest is the conformance suite of timer stores: a backend is
// done when Run passes.
//
//	func TestConformance(t *testing.T) {
//		timertest.Run(t, func(t *testing.T) timer.Store { return new(timer.Memory) }, timertest.Features{})
//	}
package timertest

import (
	"context"
	"crypto/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/timer"
)

// Factory returns a store; with Features.MultiProcess, the stores it
// returns within one test share their timers.
type Factory func(t *testing.T) timer.Store

// Features declares what a backend guarantees beyond the basics.
type Features struct {
	// MultiProcess means that stores the factory makes within one test
	// share their timers, as processes sharing one server do.
	MultiProcess bool
}

// Ping is the event the cases schedule.
type Ping struct {
	N int `msgpack:"n"`
}

// Type implements event.Event.
func (Ping) Type() string { return "timertest.ping" }

// Run runs every case as a parallel subtest of t.
func Run(t *testing.T, newStore Factory, f Features) {
	for name, run := range map[string]func(*testing.T, Factory, Features){
		"DueOnly":          TestDueOnly,
		"Replace":          TestReplace,
		"Cancel":           TestCancel,
		"LeaseAndAck":      TestLeaseAndAck,
		"AckAfterSchedule": TestAckAfterSchedule,
		"ClaimOnce":        TestClaimOnce,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newStore, f)
		})
	}
}

var t0 = time.UnixMilli(1_700_000_000_000)

type harness struct {
	t       *testing.T
	ctx     context.Context
	adapter string
}

func begin(t *testing.T) *harness {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return &harness{t: t, ctx: ctx, adapter: "tt" + rand.Text()[:10]}
}

func (h *harness) timer(key, name string, at time.Time, n int) timer.Timer {
	return timer.Timer{Adapter: h.adapter, Key: key, Name: name, At: at, Event: Ping{N: n},
		Scope: timer.Facts{Type: "chat", Adapter: h.adapter, Key: key}}
}

func (h *harness) schedule(st timer.Store, tm timer.Timer) {
	h.t.Helper()
	if err := st.Schedule(h.ctx, tm); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) claim(st timer.Store, now time.Time, max int) []timer.Claim {
	h.t.Helper()
	cs, err := st.Claim(h.ctx, h.adapter, now, max, time.Minute)
	if err != nil {
		h.t.Fatal(err)
	}
	return cs
}

func names(cs []timer.Claim) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key+"/"+c.Name)
	}
	return out
}

func ping(t *testing.T, ev event.Event) int {
	t.Helper()
	p, err := event.Decode[Ping](ev)
	if err != nil {
		t.Fatalf("event %s: %v", ev.Type(), err)
	}
	return p.N
}

// TestDueOnly: a claim hands out the timers due by then, earliest first,
// with their event and facts, and at most max of them.
func TestDueOnly(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	h.schedule(st, h.timer("a", "late", t0.Add(time.Hour), 1))
	h.schedule(st, h.timer("a", "second", t0.Add(2*time.Second), 2))
	h.schedule(st, h.timer("b", "first", t0.Add(time.Second), 3))
	h.schedule(st, h.timer("c", "third", t0.Add(3*time.Second), 4))
	if cs := h.claim(st, t0, 10); len(cs) != 0 {
		t.Fatalf("claimed %v before anything was due", names(cs))
	}
	cs := h.claim(st, t0.Add(3*time.Second), 2)
	if got := names(cs); len(got) != 2 || got[0] != "b/first" || got[1] != "a/second" {
		t.Fatalf("claimed %v; want [b/first a/second]", got)
	}
	if n := ping(t, cs[0].Event); n != 3 || cs[0].Scope.Key != "b" || !cs[0].At.Equal(t0.Add(time.Second)) {
		t.Fatalf("claim = %+v", cs[0])
	}
	if got := names(h.claim(st, t0.Add(3*time.Second), 10)); len(got) != 1 || got[0] != "c/third" {
		t.Fatalf("then claimed %v; want [c/third]", got)
	}
}

// TestReplace: scheduling a name again replaces its timer.
func TestReplace(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	h.schedule(st, h.timer("a", "remind", t0.Add(time.Second), 1))
	h.schedule(st, h.timer("a", "remind", t0.Add(time.Hour), 2))
	if cs := h.claim(st, t0.Add(time.Minute), 10); len(cs) != 0 {
		t.Fatalf("claimed %v: the replaced timer fired", names(cs))
	}
	cs := h.claim(st, t0.Add(time.Hour), 10)
	if len(cs) != 1 || ping(t, cs[0].Event) != 2 {
		t.Fatalf("claimed %v; want the replacement once", names(cs))
	}
}

// TestCancel: a cancelled timer never fires; cancelling twice reports it.
func TestCancel(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	h.schedule(st, h.timer("a", "remind", t0, 1))
	h.schedule(st, h.timer("a", "other", t0, 2))
	if ok, err := st.Cancel(h.ctx, h.adapter, "a", "remind"); err != nil || !ok {
		t.Fatalf("Cancel = %v, %v; want true", ok, err)
	}
	if ok, err := st.Cancel(h.ctx, h.adapter, "a", "remind"); err != nil || ok {
		t.Fatalf("second Cancel = %v, %v; want false", ok, err)
	}
	if got := names(h.claim(st, t0.Add(time.Hour), 10)); len(got) != 1 || got[0] != "a/other" {
		t.Fatalf("claimed %v; want [a/other]", got)
	}
}

// TestLeaseAndAck: a claimed timer is not claimed again during its lease,
// is again after it, and an acknowledged one never is.
func TestLeaseAndAck(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	h.schedule(st, h.timer("a", "x", t0, 1))
	h.schedule(st, h.timer("a", "y", t0, 2))
	cs := h.claim(st, t0, 10) // leases of a minute
	if len(cs) != 2 {
		t.Fatalf("claimed %v", names(cs))
	}
	if again := h.claim(st, t0.Add(59*time.Second), 10); len(again) != 0 {
		t.Fatalf("claimed %v again within the lease", names(again))
	}
	for _, c := range cs {
		if ping(t, c.Event) == 1 {
			if err := st.Ack(h.ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	again := h.claim(st, t0.Add(61*time.Second), 10)
	if got := names(again); len(got) != 1 || got[0] != "a/y" {
		t.Fatalf("after the lease claimed %v; want the unacknowledged [a/y]", got)
	}
}

// TestAckAfterSchedule: a timer scheduled again after it was claimed is a
// new timer: the old claim's ack leaves it.
func TestAckAfterSchedule(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	h.schedule(st, h.timer("a", "x", t0, 1))
	cs := h.claim(st, t0, 10)
	h.schedule(st, h.timer("a", "x", t0.Add(time.Hour), 2))
	if err := st.Ack(h.ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	if got := h.claim(st, t0.Add(2*time.Hour), 10); len(got) != 1 || ping(t, got[0].Event) != 2 {
		t.Fatalf("claimed %v; want the timer scheduled again", names(got))
	}
}

// TestClaimOnce: claimers racing for 500 due timers get each once.
func TestClaimOnce(t *testing.T, newStore Factory, f Features) {
	h := begin(t)
	st := newStore(t)
	stores := []timer.Store{st, st, st, st}
	if f.MultiProcess {
		stores[1], stores[3] = newStore(t), newStore(t)
	}
	for i := range 500 {
		h.schedule(st, h.timer("k"+string(rune('a'+i%20)), "n"+time.Duration(i).String(), t0, i))
	}
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			for {
				cs, err := s.Claim(h.ctx, h.adapter, t0, 7, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					got = append(got, ping(t, c.Event))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Ints(got)
	if len(got) != 500 {
		t.Fatalf("claimed %d timers; want each of 500 once", len(got))
	}
	for i, n := range got {
		if n != i {
			t.Fatalf("timer %d claimed twice or never", i)
		}
	}
}
