package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Lease is an expiring lock shared by the processes that run one bot, so
// that only one of them polls: Telegram answers 409 to the older of two
// concurrent getUpdates on a token. The holder renews it well before ttl
// passes; if it dies, the lease expires and another process takes over.
//
// layer/redis provides one on Redis (redis.Lease: SET key owner NX PX ttl
// for Acquire, compare-and-PEXPIRE and compare-and-DEL scripts for Renew
// and Release), for processes on different hosts.
// Webhook mode needs no lease: any number of processes can serve the
// webhook behind a load balancer, which is the way to scale out.
type Lease interface {
	// Acquire takes the lease for owner if it is free or expired, and
	// reports whether owner holds it.
	Acquire(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	// Renew extends the lease if owner still holds it, and reports
	// whether it did.
	Renew(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	// Release frees the lease if owner holds it.
	Release(ctx context.Context, key, owner string) error
}

// MemoryLease is a Lease within one process: for adapters of one bot in
// one process, and for tests.
type MemoryLease struct {
	clock Clock
	mu    sync.Mutex
	held  map[string]leaseHold
}

type leaseHold struct {
	owner string
	until time.Time
}

// NewMemoryLease returns an in-process Lease on clock (nil: the wall
// clock).
func NewMemoryLease(clock Clock) *MemoryLease {
	if clock == nil {
		clock = scope.WallClock{}
	}
	return &MemoryLease{clock: clock, held: map[string]leaseHold{}}
}

// Acquire implements Lease.
func (l *MemoryLease) Acquire(_ context.Context, key, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if h, ok := l.held[key]; ok && h.owner != owner && now.Before(h.until) {
		return false, nil
	}
	l.held[key] = leaseHold{owner: owner, until: now.Add(ttl)}
	return true, nil
}

// Renew implements Lease.
func (l *MemoryLease) Renew(_ context.Context, key, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if h, ok := l.held[key]; !ok || h.owner != owner || !now.Before(h.until) {
		return false, nil
	}
	l.held[key] = leaseHold{owner: owner, until: now.Add(ttl)}
	return true, nil
}

// Release implements Lease.
func (l *MemoryLease) Release(_ context.Context, key, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.held[key]; ok && h.owner == owner {
		delete(l.held, key)
	}
	return nil
}

// leaseKey names a token's lease by a hash: the token must never be
// stored or shown.
func leaseKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "switchboard:telegram:poller:" + hex.EncodeToString(sum[:12])
}

// pollTerms polls, with a Lease only while holding it: each time the
// lease is won a new poller starts from Telegram's unconfirmed updates,
// and it stops when a renewal fails, before the lease can expire.
func (a *Adapter) pollTerms(fetch context.Context, in *adapters.Intake) error {
	if a.lease == nil {
		in.Ready()
		return newPoller(a, in).run(fetch)
	}
	return adapters.LeasedTerms{
		Lease: a.lease, Key: leaseKey(string(a.cfg.Token)), TTL: a.cfg.Polling.LeaseTTL, Clock: a.clock,
		Log:         a.log.With("adapter", a.cfg.Name),
		Unavailable: "telegram: poller lease unavailable",
		Won:         "telegram: this process polls",
		// Stop polling before the lease can expire and another process
		// start: two pollers make Telegram answer 409.
		Lost: "telegram: poller lease lost; stopping polling",
		// Polling, or standing by for a lease that answers.
		Answered:       func(bool) { in.Ready() },
		ReleaseTimeout: a.cfg.RequestTimeout,
	}.Run(fetch, func(term context.Context) error { return newPoller(a, in).run(term) })
}
