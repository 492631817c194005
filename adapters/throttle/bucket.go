package throttle

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-bots/switchboard/scope"
)

// Bucket is a token bucket. Make it with New; it is safe for concurrent
// use, and callers take tokens in the order they call Wait.
type Bucket struct {
	lim   *rate.Limiter
	clock scope.Clock
}

// New returns a bucket that holds burst tokens (at least 1) and gains one
// every interval (at least a nanosecond), starting full. A nil clock is
// the wall clock.
func New(burst int, every time.Duration, clock scope.Clock) *Bucket {
	if clock == nil {
		clock = scope.WallClock{}
	}
	return &Bucket{lim: rate.NewLimiter(rate.Every(max(every, 1)), max(burst, 1)), clock: clock}
}

// Wait takes a token, waiting for it until ctx ends, and returns how long
// it waited, for adapters.Report.Waited. A wait cut short by ctx gives
// its token back and returns ctx's error with the time spent waiting.
func (b *Bucket) Wait(ctx context.Context) (time.Duration, error) {
	now := b.clock.Now()
	r := b.lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d == 0 {
		return 0, nil
	}
	select {
	case <-b.clock.After(d):
		return d, nil
	case <-ctx.Done():
		end := b.clock.Now()
		r.CancelAt(end)
		return end.Sub(now), ctx.Err()
	}
}
