package sessiontest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/session"
)

// Factory returns a store. Within one test, every store it returns shares
// its values with the others when Features.MultiProcess is set, as
// processes sharing one server do. The factory cleans up after itself
// (t.Cleanup).
type Factory func(t *testing.T) session.Store

// Features declares what a backend guarantees beyond what every backend
// must pass.
type Features struct {
	// MultiProcess means that two stores the factory makes within one test
	// share their values.
	MultiProcess bool
	// Advance moves the clock of st, a store the factory made, on by d.
	// When nil, expiry cases wait for the real clock, with times to live
	// of Tick.
	Advance func(st session.Store, d time.Duration)
	// Tick is the shortest time to live the backend honours on the real
	// clock. Unused when Advance is set. Default: 100 ms.
	Tick time.Duration
}

const (
	defaultTick = 100 * time.Millisecond
	// caseTimeout bounds every case, so that a backend that hangs fails
	// instead of stalling the test binary.
	caseTimeout = 30 * time.Second
)

// Run runs every case as a parallel subtest of t.
func Run(t *testing.T, newStore Factory, f Features) {
	cases := []struct {
		name string
		run  func(*testing.T, Factory, Features)
	}{
		{"LoadMissing", TestLoadMissing},
		{"SaveLoad", TestSaveLoad},
		{"Conflict", TestConflict},
		{"CreateConflict", TestCreateConflict},
		{"DeleteThenStale", TestDeleteThenStale},
		{"KeysApart", TestKeysApart},
		{"Expiry", TestExpiry},
		{"NoExpiry", TestNoExpiry},
		{"LostUpdate", TestLostUpdate},
		{"ConcurrentIncrements", TestConcurrentIncrements},
		{"MultiProcess", TestMultiProcess},
		{"Cancelled", TestCancelled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore, f)
		})
	}
}

// harness is what a case starts with: a context bounded by caseTimeout
// and keys no other case or run uses.
type harness struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func begin(t *testing.T) *harness {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	return &harness{t: t, ctx: ctx, base: "sessiontest:" + rand.Text()[:12] + ":"}
}

func (h *harness) key(name string) string { return h.base + name }

func (h *harness) load(st session.Store, key string) session.Record {
	h.t.Helper()
	r, err := st.Load(h.ctx, key)
	if err != nil {
		h.t.Fatalf("Load(%q): %v", key, err)
	}
	return r
}

func (h *harness) save(st session.Store, key, data string, version uint64, ttl time.Duration) uint64 {
	h.t.Helper()
	v, err := st.Save(h.ctx, key, []byte(data), version, ttl)
	if err != nil {
		h.t.Fatalf("Save(%q, %q, version %d): %v", key, data, version, err)
	}
	if v == 0 || v == version {
		h.t.Fatalf("Save(%q, version %d) returned version %d; want a new, non-zero one", key, version, v)
	}
	return v
}

func (h *harness) want(st session.Store, key, data string, version uint64) {
	h.t.Helper()
	r := h.load(st, key)
	if string(r.Data) != data || r.Version != version {
		h.t.Fatalf("Load(%q) = %q at version %d; want %q at version %d", key, r.Data, r.Version, data, version)
	}
}
