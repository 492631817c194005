package adapters

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/switchboard-bots/switchboard/scope"
)

// LeasedTerms runs an adapter's intake in one process at a time among
// those sharing a Lease: the Telegram poller, the Matrix syncer. Each
// time this process wins the lease a term starts, and it ends when a
// renewal fails, before the lease can expire and another process start
// one of its own.
type LeasedTerms struct {
	Lease Lease
	// Key names the lease; TTL is how long a renewal holds it. Attempts
	// and renewals come every third of TTL.
	Key string
	TTL time.Duration
	// Clock paces attempts and renewals.
	Clock scope.Clock
	// Log receives the lines named below, for an operator to see which
	// process holds the lease.
	Log                    *slog.Logger
	Unavailable, Won, Lost string
	// Answered, if set, is called after each attempt to take the lease
	// that the lease answered, with whether this process now holds it:
	// standing by for a lease that answers is healthy.
	Answered func(held bool)
	// ReleaseTimeout bounds the release of the lease after a term.
	ReleaseTimeout time.Duration
}

// Run runs term while this process holds the lease, a term each time it
// wins it, until ctx ends (nil) or a term fails (its error). A term gets
// a context that ends when the lease is lost.
func (l LeasedTerms) Run(ctx context.Context, term func(context.Context) error) error {
	var b [12]byte
	_, _ = rand.Read(b[:])
	owner, every := hex.EncodeToString(b[:]), l.TTL/3
	for {
		for {
			held, err := l.Lease.Acquire(ctx, l.Key, owner, l.TTL)
			if err == nil && ctx.Err() == nil && l.Answered != nil {
				l.Answered(held)
			}
			if held {
				break
			}
			if err != nil && ctx.Err() == nil {
				l.Log.Warn(l.Unavailable, "err", err)
			}
			if l.sleep(ctx, every) != nil {
				return nil
			}
		}
		l.Log.Info(l.Won)
		held, endTerm := context.WithCancel(ctx)
		renewed := make(chan struct{})
		go func() {
			defer close(renewed)
			last := l.Clock.Now()
			for l.sleep(held, every) == nil {
				ok, err := l.Lease.Renew(held, l.Key, owner, l.TTL)
				if ok {
					last = l.Clock.Now()
					continue
				}
				// Stop before the lease can expire: a refused renewal
				// at once, an unanswered one before its TTL is spent.
				if err == nil || l.Clock.Now().Sub(last) >= 2*every {
					l.Log.Warn(l.Lost, "err", err)
					endTerm()
					return
				}
			}
		}()
		err := term(held)
		endTerm()
		<-renewed
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.ReleaseTimeout)
		_ = l.Lease.Release(rctx, l.Key, owner)
		cancel()
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
}

func (l LeasedTerms) sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, l.Clock, d) }

// Sleep waits d on c, or until ctx ends, and returns ctx's error then: the
// wait of backoffs, rate limits and leases that tests run on a clock of
// their own.
func Sleep(ctx context.Context, c scope.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-c.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
