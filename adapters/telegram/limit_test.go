package telegram

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// testClock runs speed times faster than the wall clock.
type testClock struct {
	start time.Time
	speed time.Duration
}

func (c testClock) Now() time.Time { return c.start.Add(time.Since(c.start) * c.speed) }
func (c testClock) After(d time.Duration) <-chan time.Time {
	return time.After(d / c.speed)
}

// The moments the limiter lets messages go, by its own clock, are never
// closer than the limits: per private chat, per group, and for the bot,
// even with many chats waiting at once and a 429 pause in the middle.
func TestLimiterSpacing(t *testing.T) {
	clock := testClock{start: time.Now(), speed: 20}
	l := newLimiter(Limits{Global: 30, Chat: 1, Group: 20}, clock)
	type grant struct {
		chat int64
		at   time.Time
	}
	var (
		grants []grant // appended under l.mu
		wg     sync.WaitGroup
	)
	l.granted = func(chat int64, at time.Time) { grants = append(grants, grant{chat, at}) }
	chats := []int64{-1, -2}
	for i := range 40 {
		chats = append(chats, int64(i+1))
	}
	l.pauseChat(5, 3*time.Second)
	for _, chat := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if err := l.wait(context.Background(), chat); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	start := clock.Now()
	wg.Wait()
	sort.Slice(grants, func(i, j int) bool { return grants[i].at.Before(grants[j].at) })
	last := map[int64]time.Time{}
	for i, g := range grants {
		if i > 0 {
			if gap := g.at.Sub(grants[i-1].at); gap < time.Second/30 {
				t.Fatalf("two messages %v apart: over 30/s", gap)
			}
		}
		if g.chat == 5 && g.at.Sub(start) < 3*time.Second {
			t.Fatalf("paused chat 5 let go after %v", g.at.Sub(start))
		}
		if prev, ok := last[g.chat]; ok {
			need := time.Second
			if g.chat < 0 {
				need = 3 * time.Second
			}
			if gap := g.at.Sub(prev); gap < need {
				t.Fatalf("chat %d: two messages %v apart, want %v", g.chat, gap, need)
			}
		}
		last[g.chat] = g.at
	}
	if len(grants) != len(chats)*3 {
		t.Fatalf("%d grants", len(grants))
	}
}

// firedClock stands still, and its waits end at once without allocating,
// so that allocations measured around the limiter are the limiter's.
type firedClock struct{}

var fired = func() chan time.Time {
	ch := make(chan time.Time)
	close(ch)
	return ch
}()

func (firedClock) Now() time.Time                       { return time.Unix(1_700_000_000, 0) }
func (firedClock) After(time.Duration) <-chan time.Time { return fired }

// A wait for a slot allocates nothing, with or without someone told of
// it: an observer costs no allocation on the send path.
func TestLimiterWaitAllocs(t *testing.T) {
	ctx := context.Background()
	for _, observed := range []bool{false, true} {
		l := newLimiter(Limits{Global: -1, Chat: 1, Group: -1}, firedClock{})
		obs := &sumObserver{}
		if observed {
			r := adapters.NewReport(obs, "tg")
			l.waited.Store(&r)
		}
		_ = l.wait(ctx, 5) // makes the chat's slot
		allocs := testing.AllocsPerRun(100, func() {
			if err := l.wait(ctx, 5); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("observed %v: %v allocations per wait, want 0", observed, allocs)
		}
		// The clock stands still, so each wait is a whole second: the
		// path measured is the one that sleeps.
		if observed && obs.total < 100*time.Second {
			t.Errorf("waits reported %v over 101 waits, want 1s each", obs.total)
		}
	}
}

// sumObserver adds up the waits it is told of, from one goroutine.
type sumObserver struct{ total time.Duration }

func (o *sumObserver) OutboundRetry(string)                    {}
func (o *sumObserver) RateLimitWait(_ string, d time.Duration) { o.total += d }
