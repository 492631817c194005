package slack

import (
	"context"
	"time"
)

// pause waits d before a retry, until ctx ends at most. A pause for a
// 429 (rateLimited) is a rate-limit wait and is reported to the Host's
// observer as one.
func (a *Adapter) pause(ctx context.Context, d time.Duration, rateLimited bool) error {
	report := a.observe()
	var start time.Time
	if rateLimited && report.On() {
		start = a.clock.Now()
	}
	var err error
	select {
	case <-a.clock.After(d):
	case <-ctx.Done():
		err = ctx.Err()
		d = min(d, a.clock.Now().Sub(start))
	}
	if rateLimited {
		report.Waited(d)
	}
	return err
}
