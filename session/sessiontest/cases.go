package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/session"
)

// TestLoadMissing: a key never saved loads as version 0 with no data.
func TestLoadMissing(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	h.want(newStore(t), h.key("missing"), "", 0)
}

// TestSaveLoad: what is saved loads back at the version Save returned,
// and every save makes a new version.
func TestSaveLoad(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st, k := newStore(t), h.key("k")
	v1 := h.save(st, k, "one", 0, time.Hour)
	h.want(st, k, "one", v1)
	v2 := h.save(st, k, "two", v1, time.Hour)
	h.want(st, k, "two", v2)
	v3 := h.save(st, k, "", v2, time.Hour)
	h.want(st, k, "", v3)
	if v1 == v2 || v2 == v3 || v1 == v3 {
		t.Fatalf("versions %d, %d, %d repeat", v1, v2, v3)
	}
}

// TestConflict: a save naming an old version fails with ErrConflict and
// leaves the stored value as it was.
func TestConflict(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st, k := newStore(t), h.key("k")
	v1 := h.save(st, k, "one", 0, time.Hour)
	v2 := h.save(st, k, "two", v1, time.Hour)
	for _, stale := range []uint64{v1, 0, v2 + 1000} {
		if _, err := st.Save(h.ctx, k, []byte("lost"), stale, time.Hour); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("Save at version %d over version %d: err = %v; want ErrConflict", stale, v2, err)
		}
	}
	h.want(st, k, "two", v2)
}

// TestCreateConflict: of two writers creating one key, the second fails.
func TestCreateConflict(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st, k := newStore(t), h.key("k")
	v := h.save(st, k, "first", 0, time.Hour)
	if _, err := st.Save(h.ctx, k, []byte("second"), 0, time.Hour); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("second create: err = %v; want ErrConflict", err)
	}
	h.want(st, k, "first", v)
}

// TestDeleteThenStale: after a delete and a new save, a writer holding the
// version read before the delete cannot overwrite: versions never repeat.
func TestDeleteThenStale(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st, k := newStore(t), h.key("k")
	old := h.save(st, k, "old", 0, time.Hour)
	if err := st.Delete(h.ctx, k); err != nil {
		t.Fatal(err)
	}
	h.want(st, k, "", 0)
	if err := st.Delete(h.ctx, k); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	fresh := h.save(st, k, "new", 0, time.Hour)
	if fresh == old {
		t.Fatalf("a key created again got its old version %d", old)
	}
	if _, err := st.Save(h.ctx, k, []byte("stale"), old, time.Hour); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("save at the version read before the delete: err = %v; want ErrConflict", err)
	}
	h.want(st, k, "new", fresh)
}

// TestKeysApart: keys never see each other's values, including keys that
// are prefixes of each other.
func TestKeysApart(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	a, b := h.key("a"), h.key("a:b")
	va := h.save(st, a, "A", 0, time.Hour)
	vb := h.save(st, b, "B", 0, time.Hour)
	h.want(st, a, "A", va)
	h.want(st, b, "B", vb)
	if err := st.Delete(h.ctx, a); err != nil {
		t.Fatal(err)
	}
	h.want(st, b, "B", vb)
}

// TestExpiry: a value not saved again within its time to live is gone,
// and a save renews the time to live.
func TestExpiry(t *testing.T, newStore Factory, f Features) {
	h := begin(t)
	st, k, renewed := newStore(t), h.key("k"), h.key("renewed")
	ttl := f.tick()
	if f.Advance != nil {
		ttl = time.Minute
	}
	h.save(st, k, "short", 0, ttl)
	v := h.save(st, renewed, "r1", 0, ttl)
	f.wait(st, ttl*6/10)
	v = h.save(st, renewed, "r2", v, ttl) // lives ttl from now
	f.wait(st, ttl*6/10)
	h.want(st, k, "", 0) // 1.2 ttl after its save
	h.want(st, renewed, "r2", v)
	f.wait(st, ttl*6/10)
	h.want(st, renewed, "", 0)
	if _, err := st.Save(h.ctx, k, []byte("again"), 0, ttl); err != nil {
		t.Fatalf("create after expiry: %v", err)
	}
}

// TestNoExpiry: a time to live of 0 keeps the value, also when it had a
// time to live before.
func TestNoExpiry(t *testing.T, newStore Factory, f Features) {
	h := begin(t)
	st, k := newStore(t), h.key("k")
	ttl := f.tick()
	if f.Advance != nil {
		ttl = time.Minute
	}
	t.Cleanup(func() { _ = st.Delete(context.Background(), k) })
	v := h.save(st, k, "kept", 0, ttl)
	v = h.save(st, k, "kept", v, 0)
	f.wait(st, ttl*3/2)
	h.want(st, k, "kept", v)
}

// TestLostUpdate is the lost update, step by step: two writers load the
// same value, both change it, both save. With last-writer-wins the first
// change would be lost; the second save must fail instead, and the second
// writer, loading again, sees the first one's change.
func TestLostUpdate(t *testing.T, newStore Factory, f Features) {
	h := begin(t)
	a := newStore(t)
	b := a
	if f.MultiProcess {
		b = newStore(t)
	}
	k := h.key("counter")
	h.save(a, k, "0", 0, time.Hour)
	ra, rb := h.load(a, k), h.load(b, k)
	if _, err := a.Save(h.ctx, k, []byte("1"), ra.Version, time.Hour); err != nil {
		t.Fatalf("first writer: %v", err)
	}
	if _, err := b.Save(h.ctx, k, []byte("1"), rb.Version, time.Hour); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("second writer, saving what it computed from the value the first replaced: err = %v; want ErrConflict", err)
	}
	if r := h.load(b, k); string(r.Data) != "1" {
		t.Fatalf("after the conflict the second writer loads %q; want the first writer's %q", r.Data, "1")
	}
}

// TestConcurrentIncrements: writers incrementing one counter at once,
// each retrying on conflict, lose no increment.
func TestConcurrentIncrements(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	stores := []session.Store{st, st, st, st}
	k := h.key("counter")
	got, err := Increments(h.ctx, stores, k, 50)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(stores) * 50; got != want {
		t.Fatalf("counter = %d after %d increments: updates were lost", got, want)
	}
}

// TestMultiProcess: what one store saves, another sharing the backend
// loads, and their writers racing on one counter lose nothing.
func TestMultiProcess(t *testing.T, newStore Factory, f Features) {
	if !f.MultiProcess {
		t.Skip("the backend does not claim MultiProcess")
	}
	h := begin(t)
	a, b := newStore(t), newStore(t)
	k := h.key("shared")
	v := h.save(a, k, "from a", 0, time.Hour)
	h.want(b, k, "from a", v)
	got, err := Increments(h.ctx, []session.Store{a, b, a, b}, h.key("counter"), 50)
	if err != nil {
		t.Fatal(err)
	}
	if got != 200 {
		t.Fatalf("counter = %d after 200 increments from two stores: updates were lost", got)
	}
}

// TestCancelled: calls with a cancelled context fail, and fail with the
// context's error.
func TestCancelled(t *testing.T, newStore Factory, _ Features) {
	h := begin(t)
	st := newStore(t)
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	// In-memory stores never block, so they may succeed; what must not
	// happen is another error than the context's.
	if _, err := st.Load(ctx, h.key("k")); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Load with a cancelled context: %v; want nil or context.Canceled", err)
	}
	if _, err := st.Save(ctx, h.key("k"), nil, 0, time.Minute); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Save with a cancelled context: %v; want nil or context.Canceled", err)
	}
	_ = st.Delete(context.Background(), h.key("k"))
}

// Increments runs one writer per store at once, each incrementing the
// decimal counter under key n times with session.Update, and returns the
// counter at the end. On a store that loses no update it is
// len(stores)*n; last-writer-wins loses some.
func Increments(ctx context.Context, stores []session.Store, key string, n int) (int, error) {
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for _, st := range stores {
		wg.Go(func() {
			for range n {
				_, err := session.Update(ctx, st, key, time.Hour, 1000, func(old []byte) ([]byte, error) {
					c, _ := strconv.Atoi(string(old))
					return strconv.AppendInt(nil, int64(c+1), 10), nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, fmt.Errorf("increment: %w", err)
	}
	r, err := stores[0].Load(ctx, key)
	if err != nil {
		return 0, err
	}
	c, _ := strconv.Atoi(string(r.Data))
	return c, nil
}

func (f Features) tick() time.Duration {
	if f.Tick > 0 {
		return f.Tick
	}
	return defaultTick
}

// wait lets d pass for st: on its clock when the backend has one, on the
// real clock otherwise, since a server's expiry is nothing a test can
// await.
func (f Features) wait(st session.Store, d time.Duration) {
	if f.Advance != nil {
		f.Advance(st, d)
		return
	}
	time.Sleep(d)
}
