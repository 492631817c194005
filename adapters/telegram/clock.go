package telegram

import (
	"time"
)

// Clock is the adapter's source of time: rate limits, backoff, retry_after
// and leases read it, so tests can run them faster than the wall clock.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}
