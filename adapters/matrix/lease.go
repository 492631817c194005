package matrix

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/switchboard-bots/switchboard/adapters"
)

// WithLease makes the processes that share l (and the store) elect one
// of them to sync the account; the others stand by and take over when it
// stops renewing. Default: none (this process syncs). Factory takes the
// channel layer's lease when processes share it (the Redis layer).
func WithLease(l adapters.Lease) Option { return func(o *options) { o.lease = l } }

// leaseKey names the account's lease by a hash: the token must never be
// stored or shown.
func (a *Adapter) leaseKey() string {
	sum := sha256.Sum256([]byte(a.cfg.Homeserver + "\x00" + string(a.cfg.AccessToken)))
	return "switchboard:matrix:syncer:" + hex.EncodeToString(sum[:12])
}

// syncTerms syncs while this process holds the lease. Each term loads the
// store afresh, since the process that synced before may have moved it,
// and ends when a renewal fails, before the lease can expire.
func (a *Adapter) syncTerms(ctx context.Context, in *adapters.Intake) error {
	var b [12]byte
	_, _ = rand.Read(b[:])
	key, owner, ttl := a.leaseKey(), hex.EncodeToString(b[:]), a.cfg.Sync.LeaseTTL
	every := ttl / 3
	for {
		for {
			held, err := a.lease.Acquire(ctx, key, owner, ttl)
			if err == nil && !held && ctx.Err() == nil {
				// Standing by for a lease that answers is healthy; a
				// holder is ready once its first sync is made.
				in.Ready()
			}
			if held {
				break
			}
			if err != nil && ctx.Err() == nil {
				a.log.Warn("matrix: syncer lease unavailable", "err", err)
			}
			if sleep(ctx, a.clock, every) != nil {
				return nil
			}
		}
		a.log.Info("matrix: this process syncs the account")
		term, endTerm := context.WithCancel(ctx)
		renewed := make(chan struct{})
		go func() {
			defer close(renewed)
			last := a.clock.Now()
			for sleep(term, a.clock, every) == nil {
				ok, err := a.lease.Renew(term, key, owner, ttl)
				if ok {
					last = a.clock.Now()
					continue
				}
				// Stop before the lease can expire and another process
				// start: two syncers would each handle every message.
				if err == nil || a.clock.Now().Sub(last) >= 2*every {
					a.log.Warn("matrix: syncer lease lost; stopping", "err", err)
					endTerm()
					return
				}
			}
		}()
		err := a.syncFromStore(term, in)
		endTerm()
		<-renewed
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
		_ = a.lease.Release(rctx, key, owner)
		cancel()
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
}
