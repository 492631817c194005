package memory_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
	"github.com/switchboard-bots/switchboard/session/sessiontest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	clocks := map[session.Store]*clocktest.Clock{}
	sessiontest.Run(t, func(t *testing.T) session.Store {
		c := clocktest.New(time.Unix(1_700_000_000, 0))
		st := memory.New(memory.WithClock(c.Now))
		mu.Lock()
		clocks[st] = c
		mu.Unlock()
		return st
	}, sessiontest.Features{Advance: func(st session.Store, d time.Duration) {
		mu.Lock()
		c := clocks[st]
		mu.Unlock()
		c.Advance(d)
		st.(*memory.Store).Sweep()
	}})
}

// A value kept by SaveValue comes back as it is from LoadValue, and as
// its encoding from Load, which encodes it once; versions and expiry
// are those of Save.
func TestSaveValue(t *testing.T) {
	ctx := t.Context()
	c := clocktest.New(time.Unix(1_700_000_000, 0))
	st := memory.New(memory.WithClock(c.Now))
	type state struct{ N int }
	encodes := 0
	encode := func(v any) ([]byte, error) {
		encodes++
		return []byte(fmt.Sprint(v.(state).N)), nil
	}
	v1, _, err := st.SaveValue(ctx, "k", state{N: 7}, encode, 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SaveValue(ctx, "k", state{N: 8}, encode, 0, 0); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("SaveValue over a stale version: %v, want ErrConflict", err)
	}
	rec, err := st.LoadValue(ctx, "k", 0)
	if err != nil || rec.Value != (state{N: 7}) || rec.Data != nil || rec.Version != v1 {
		t.Fatalf("LoadValue = %+v, %v; want the value as saved at version %d", rec, err, v1)
	}
	for range 2 {
		rec, err = st.Load(ctx, "k")
		if err != nil || string(rec.Data) != "7" || rec.Version != v1 {
			t.Fatalf("Load = %+v, %v; want its encoding at version %d", rec, err, v1)
		}
	}
	if encodes != 1 {
		t.Fatalf("encoded %d times for two Loads, want once", encodes)
	}
	if rec, err := st.LoadValue(ctx, "k", v1); err != nil || rec.Version != v1 || rec.Value != nil || rec.Data != nil {
		t.Fatalf("LoadValue of the version held = %+v, %v; want the version alone", rec, err)
	}
	c.Advance(time.Minute + memory.DefaultResolution)
	st.Sweep()
	if rec, _ := st.LoadValue(ctx, "k", 0); rec.Version != 0 || rec.Value != nil {
		t.Fatalf("LoadValue after the value's ttl = %+v, want nothing", rec)
	}
	if _, _, err := st.SaveValue(ctx, "k", state{N: 9}, encode, 0, 0); err != nil {
		t.Fatalf("SaveValue after expiry with version 0: %v", err)
	}
}

// countingClock is a fake clock that counts its reads and reports each on
// reads, when someone listens.
type countingClock struct {
	*clocktest.Clock
	n     atomic.Int64
	reads chan struct{}
}

func newCountingClock() *countingClock {
	return &countingClock{Clock: clocktest.New(time.Unix(1_700_000_000, 0)), reads: make(chan struct{})}
}

func (c *countingClock) Now() time.Time {
	c.n.Add(1)
	select {
	case c.reads <- struct{}{}:
	default:
	}
	return c.Clock.Now()
}

// Loads and saves do not read the clock: a store with no time to live
// never does after New, and one with times to live only on its ticks.
func TestNoClockPerCall(t *testing.T) {
	ctx := t.Context()
	for _, ttl := range []time.Duration{0, time.Minute} {
		c := newCountingClock()
		st := memory.New(memory.WithClock(c.Now), memory.WithResolution(time.Hour))
		v, err := st.Save(ctx, "k", []byte("first"), 0, ttl) // with a ttl, starts the ticks
		if err != nil {
			t.Fatal(err)
		}
		before := c.n.Load()
		for range 100 {
			if v, err = st.Save(ctx, "k", []byte("again"), v, ttl); err != nil {
				t.Fatal(err)
			}
			if _, err := st.LoadValue(ctx, "k", 0); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Load(ctx, "k"); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.n.Load() - before; n != 0 {
			t.Fatalf("ttl %v: 300 calls read the clock %d times; want 0", ttl, n)
		}
	}
}

// A value lives at least its time to live, also when it is saved while
// the store's time lags the clock by almost a resolution, and at most two
// resolutions more.
func TestExpiryPrecision(t *testing.T) {
	ctx := t.Context()
	const res, ttl = time.Second, time.Minute
	c := clocktest.New(time.Unix(1_700_000_000, 0))
	st := memory.New(memory.WithClock(c.Now), memory.WithResolution(res))
	if _, err := st.Save(ctx, "start", nil, 0, ttl); err != nil { // starts the ticks
		t.Fatal(err)
	}
	c.Advance(res - time.Nanosecond) // no tick: the store's time lags
	v, err := st.Save(ctx, "k", []byte("x"), 0, ttl)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(ttl - time.Nanosecond)
	st.Sweep()
	if r, _ := st.Load(ctx, "k"); r.Version != v {
		t.Fatalf("just before its time to live: %+v; want the value at version %d", r, v)
	}
	c.Advance(2*res + time.Nanosecond)
	st.Sweep()
	if r, _ := st.Load(ctx, "k"); r.Version != 0 {
		t.Fatalf("two resolutions after its time to live: %+v; want nothing", r)
	}
	if n := st.Len(); n != 0 {
		t.Fatalf("Len after Sweep = %d; want 0", n)
	}
}

// The store reads its clock on its own, once per resolution, without
// Sweep: a move of the clock shows within a resolution or two.
func TestTicks(t *testing.T) {
	ctx := t.Context()
	c := newCountingClock()
	st := memory.New(memory.WithClock(c.Now), memory.WithResolution(time.Millisecond))
	if _, err := st.Save(ctx, "k", []byte("x"), 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	// The first read after the move may belong to a tick that had read
	// the clock before it; the second's tick began after the first ended.
	for range 2 {
		select {
		case <-c.reads:
		case <-time.After(10 * time.Second):
			t.Fatal("the store did not read its clock within 10 s")
		}
	}
	if r, _ := st.Load(ctx, "k"); r.Version != 0 {
		t.Fatalf("an hour after a minute's time to live, with no Sweep: %+v; want nothing", r)
	}
}

// A store with ticks running is collected once unused: its timer holds it
// only weakly.
func TestCollected(t *testing.T) {
	st := memory.New(memory.WithResolution(time.Hour))
	if _, err := st.Save(t.Context(), "k", []byte("x"), 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	wp := weak.Make(st)
	st = nil
	for range 10 {
		if runtime.GC(); wp.Value() == nil {
			return
		}
	}
	t.Fatal("a Store with ticks running was not collected after ten collections")
}

// SaveValue gives back the value it replaced when nobody else was given
// it, so that a writer can reuse its memory; never one that a Load or
// LoadValue handed out.
func TestSpare(t *testing.T) {
	ctx := t.Context()
	type state struct{ N int }
	encode := func(v any) ([]byte, error) { return []byte(fmt.Sprint(v.(*state).N)), nil }
	st := memory.New()
	a, b, c := &state{1}, &state{2}, &state{3}
	save := func(v *state, version uint64) (uint64, any) {
		t.Helper()
		nv, spare, err := st.SaveValue(ctx, "k", v, encode, version, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return nv, spare
	}
	v, spare := save(a, 0)
	if spare != nil {
		t.Fatalf("the first save gave back %v; want nil", spare)
	}
	if rec, _ := st.LoadValue(ctx, "k", v); rec.Value != nil { // the version held: a is not handed out
		t.Fatalf("LoadValue of the version held handed out %v", rec.Value)
	}
	if v, spare = save(b, v); spare != a {
		t.Fatalf("a save over a value nobody was given gave back %v; want it, %v", spare, a)
	}
	if rec, _ := st.LoadValue(ctx, "k", 0); rec.Value != b {
		t.Fatalf("LoadValue = %+v; want %v", rec, b)
	}
	if v, spare = save(c, v); spare != nil {
		t.Fatalf("a save over a value LoadValue handed out gave it back: %v", spare)
	}
	if rec, _ := st.Load(ctx, "k"); string(rec.Data) != "3" {
		t.Fatalf("Load = %q; want 3", rec.Data)
	}
	if _, spare = save(a, v); spare != nil {
		t.Fatalf("a save over a value that Load encoded gave it back: %v", spare)
	}
	if _, spare, err := st.SaveValue(ctx, "k", b, encode, v, time.Minute); !errors.Is(err, session.ErrConflict) || spare != nil {
		t.Fatalf("a stale save = %v, %v; want ErrConflict and no spare", spare, err)
	}
}
