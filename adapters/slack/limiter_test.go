package slack

import (
	"context"
	"testing"
	"time"
)

// A wait for a token allocates nothing, with or without someone told of
// it: an observer costs no allocation on the send path.
func TestBucketWaitAllocs(t *testing.T) {
	ctx := context.Background()
	fired := make(chan time.Time)
	close(fired)
	// The clock stands still and its waits end at once without
	// allocating, so that what is measured is the bucket's.
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	after := func(time.Duration) <-chan time.Time { return fired }
	for _, observed := range []bool{false, true} {
		var total time.Duration
		var waited func(time.Duration)
		if observed {
			waited = func(d time.Duration) { total += d }
		}
		b := newBucket(1, 1, now, after, waited)
		allocs := testing.AllocsPerRun(100, func() {
			if err := b.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("observed %v: %v allocations per wait, want 0", observed, allocs)
		}
		// The clock stands still, so every wait after the first token is
		// longer than the last: the path measured is the one that waits.
		if observed && total < 100*time.Second {
			t.Errorf("waits reported %v over 101 waits", total)
		}
	}
}
