package matrix

import (
	"context"
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
	return adapters.LeasedTerms{
		Lease: a.lease, Key: a.leaseKey(), TTL: a.cfg.Sync.LeaseTTL, Clock: a.clock,
		Log:         a.log,
		Unavailable: "matrix: syncer lease unavailable",
		Won:         "matrix: this process syncs the account",
		// Stop before the lease can expire and another process start:
		// two syncers would each handle every message.
		Lost: "matrix: syncer lease lost; stopping",
		// Standing by for a lease that answers is healthy; a holder is
		// ready once its first sync is made.
		Answered: func(held bool) {
			if !held {
				in.Ready()
			}
		},
		ReleaseTimeout: a.cfg.RequestTimeout,
	}.Run(ctx, func(term context.Context) error { return a.syncFromStore(term, in) })
}
