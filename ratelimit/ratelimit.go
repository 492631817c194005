package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limit is one rate a call counts against: calls under Key go at most one
// every Every, with up to Burst at once after a quiet spell.
type Limit struct {
	// Key names the limit, such as "telegram:{123}:chat:42". A Limiter
	// shared through Redis Cluster needs the keys of one Reserve on one
	// slot: give them a common hash tag ({123} above). A key without
	// braces is its own hash tag.
	Key string
	// Every is the spacing of calls at the steady rate. Zero or less:
	// no limit; a pause of Key still holds the call back.
	Every time.Duration
	// Burst is how many calls may go at once after a quiet spell. Zero
	// or one: none; calls are spaced by Every.
	Burst int
}

// PerSecond returns the limit of n calls a second under key, spaced
// evenly; zero or less lifts it.
func PerSecond(key string, n float64) Limit { return Per(key, n, time.Second) }

// Per returns the limit of n calls per period under key, spaced evenly;
// zero or less lifts it.
func Per(key string, n float64, period time.Duration) Limit {
	if n <= 0 {
		return Limit{Key: key}
	}
	return Limit{Key: key, Every: time.Duration(float64(period) / n)}
}

// Tolerance is how far ahead of its theoretical arrival time a call may
// go: the room Burst gives.
func (l Limit) Tolerance() time.Duration {
	if l.Burst <= 1 || l.Every <= 0 {
		return 0
	}
	return time.Duration(l.Burst-1) * l.Every
}

// Limiter hands out slots of limits, for one process or for many.
// Implementations are safe for concurrent use.
type Limiter interface {
	// Reserve takes, for one call, the earliest slot that every limit
	// allows and that no pause covers, and returns how long from now the
	// call must wait for it: zero when it may go at once. The slot is
	// taken for all the limits at once; a caller that gives up waiting
	// leaves it unused, which errs on the slow side. A lifted limit
	// (Every zero) only has its pause kept. A key given twice, or empty,
	// is ErrBadLimit.
	Reserve(ctx context.Context, limits ...Limit) (time.Duration, error)
	// Settle counts a call under limits as made now, when it was
	// answered, if that is later than its slot: the next call goes a
	// spacing after now at the earliest. A call held up on its way (a
	// stalled process, a busy network) then cannot reach the platform
	// less than a spacing before the next one. It costs a call at most
	// one more slot.
	Settle(ctx context.Context, limits ...Limit) error
	// Pause holds back every slot of key for d from now, as a
	// platform's "retry after" asks; a longer pause in place stays.
	Pause(ctx context.Context, key string, d time.Duration) error
}

// ErrBadLimit is returned for a limit that cannot be kept: an empty key,
// or a key given twice to one Reserve.
var ErrBadLimit = errors.New("ratelimit: bad limit")

// Check returns ErrBadLimit unless the limits of one Reserve can be kept:
// for implementations of Limiter.
func Check(limits []Limit) error {
	for i, l := range limits {
		if l.Key == "" {
			return fmt.Errorf("%w: limit %d has no key", ErrBadLimit, i)
		}
		for _, o := range limits[:i] {
			if o.Key == l.Key {
				return fmt.Errorf("%w: key %q given twice", ErrBadLimit, l.Key)
			}
		}
	}
	return nil
}
