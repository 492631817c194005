package matrix_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
)

// memLease is an adapters.Lease within the test process, on the wall
// clock.
type memLease struct {
	mu    sync.Mutex
	owner string
	until time.Time
}

var _ adapters.Lease = (*memLease)(nil)

func (l *memLease) Acquire(_ context.Context, _, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner != "" && l.owner != owner && time.Now().Before(l.until) {
		return false, nil
	}
	l.owner, l.until = owner, time.Now().Add(ttl)
	return true, nil
}

func (l *memLease) Renew(_ context.Context, _, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner != owner || !time.Now().Before(l.until) {
		return false, nil
	}
	l.until = time.Now().Add(ttl)
	return true, nil
}

func (l *memLease) Release(_ context.Context, _, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner == owner {
		l.owner = ""
	}
	return nil
}

// TestLeaseOneSyncer: two processes sharing a lease and a store: one
// syncs, every message is handled once; when it stops, the other takes
// over from the stored position, and still every message is handled once.
func TestLeaseOneSyncer(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	cfg := testConfig(srv)
	cfg.Store = filepath.Join(t.TempDir(), "matrix.json")
	cfg.Sync.LeaseTTL = 300 * time.Millisecond
	lease := &memLease{}
	one, two := newRecorder(), newRecorder()
	r1 := run(t, newAdapter(t, cfg, nil, matrix.WithLease(lease)), one)
	run(t, newAdapter(t, cfg, nil, matrix.WithLease(lease)), two)
	before := say(srv, roomOf("a"), "before", 10)
	for _, id := range before {
		eventually(t, "each message handled", func() bool { return one.count(id)+two.count(id) > 0 })
	}
	if one.count(before[0]) == 0 {
		t.Fatal("the first process to start did not sync")
	}
	r1.shutdown(t)
	after := say(srv, roomOf("a"), "after", 10)
	awaitHandled(t, two, after)
	onceAcross(t, append(before, after...), one, two)
	if sent, err := srv.AwaitSent(20, timeout); err != nil || len(sent) != 20 {
		t.Errorf("%d answers (%v), want 20: one per message", len(sent), err)
	}
}
