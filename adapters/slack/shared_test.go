package slack_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/ratelimit"
)

// Two processes posting to one channel keep its limit together on a
// shared Limiter: Slack refuses none of their posts. Without it each
// keeps the limit alone, and Slack refuses some.
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
			if shared {
				l = ratelimit.NewMemory()
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
			switch {
			case shared && limited != 0:
				t.Errorf("%d posts refused with 429 under shared limits", limited)
			case !shared && limited == 0:
				t.Error("no post refused without shared limits: the test cannot tell them apart")
			}
			t.Logf("shared=%v: %d refused", shared, limited)
		})
	}
}
