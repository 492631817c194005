package memory_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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
	v1, err := st.SaveValue(ctx, "k", state{N: 7}, encode, 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveValue(ctx, "k", state{N: 8}, encode, 0, 0); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("SaveValue over a stale version: %v, want ErrConflict", err)
	}
	rec, err := st.LoadValue(ctx, "k")
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
	c.Advance(time.Minute)
	if rec, _ := st.LoadValue(ctx, "k"); rec.Version != 0 || rec.Value != nil {
		t.Fatalf("LoadValue after the value's ttl = %+v, want nothing", rec)
	}
	if _, err := st.SaveValue(ctx, "k", state{N: 9}, encode, 0, 0); err != nil {
		t.Fatalf("SaveValue after expiry with version 0: %v", err)
	}
}
