package slack

import (
	"time"

	"github.com/switchboard-bots/switchboard/scope"
)

// Clock is the adapter's source of time. Tests give one that moves only
// when told, so that rate limits, retry pauses and acknowledgement
// deadlines are observed without waiting for them.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
	// AfterFunc calls f in its own goroutine once d has passed, unless
	// stop is called first; stop reports whether it prevented the call.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// wallClock is the real time.
type wallClock struct{ scope.WallClock }

func (wallClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
