package slack_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/ratelimit"
)

// slots records the slots a Limiter hands out, by key.
type slots struct {
	ratelimit.Limiter
	mu sync.Mutex
	at map[string][]time.Time
}

func (s *slots) Reserve(ctx context.Context, limits ...ratelimit.Limit) (time.Duration, error) {
	now := time.Now()
	d, err := s.Limiter.Reserve(ctx, limits...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range limits {
		s.at[l.Key] = append(s.at[l.Key], now.Add(d))
	}
	return d, err
}

// Two processes posting to one channel keep its limit together on a
// shared Limiter: the channel's slots, whichever process took them, are
// a spacing apart. Without it each keeps the limit alone, and Slack
// refuses some of their posts.
func TestSharedLimitsAcrossProcesses(t *testing.T) {
	// Slack takes 4 posts a second to the channel; each process sends 3 a
	// second, so that a call's way to the fake (a hundred milliseconds on
	// a loaded machine) does not count against it, and two processes
	// alone send 6.
	const limit, rate, per = 4, 3, 4
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			fake := fakeslack.New(t, fakeslack.Options{PostLimit: &fakeslack.PostLimit{PerSecond: limit, Burst: 1}})
			var l ratelimit.Limiter
			rec := &slots{Limiter: ratelimit.NewMemory(), at: map[string][]time.Time{}}
			if shared {
				l = rec
			}
			var wg sync.WaitGroup
			for p := range 2 {
				a, err := slack.New(slack.Config{Name: "slk", Mode: slack.ModeSocket, BotToken: fakeslack.BotToken,
					AppToken: fakeslack.AppToken, APIURL: fake.APIURL, PostRate: rate, PostBurst: 1, MaxRetries: 10},
					slack.WithLogger(slog.New(slog.DiscardHandler)), slack.WithHTTPClient(&http.Client{Transport: tr}),
					slack.WithSharedLimits(l))
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					for i := range per {
						if err := a.Push(context.Background(), slack.Send{Channel: "CSHARED", Text: fmt.Sprintf("p%d-%d", p, i)}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			ok := 0
			for _, c := range fake.Calls("chat.postMessage") {
				if c.Err == "" {
					ok++
				}
			}
			if ok != 2*per {
				t.Errorf("%d of %d posts delivered", ok, 2*per)
			}
			limited := fake.RateLimited()
			if !shared && limited == 0 {
				t.Error("no post refused without shared limits: the test cannot tell them apart")
			}
			if shared {
				// Spacing is checked where the Limiter decides it: arrival
				// times at the fake add a loaded machine's delays. The
				// slots are read on the wall clock around the Limiter's
				// own reading: a millisecond either way.
				var at []time.Time
				for key, ts := range rec.at {
					if strings.Contains(key, ":channel:CSHARED") {
						at = ts
					}
				}
				slices.SortFunc(at, time.Time.Compare)
				if len(at) < 2*per {
					t.Fatalf("%d slots of the channel taken, want %d at least", len(at), 2*per)
				}
				for i := 1; i < len(at); i++ {
					if gap := at[i].Sub(at[i-1]); gap < time.Second/rate-time.Millisecond {
						t.Errorf("slots %d and %d of the channel %v apart, want %v", i-1, i, gap, time.Second/rate)
					}
				}
			}
			t.Logf("shared=%v: %d refused", shared, limited)
		})
	}
}
