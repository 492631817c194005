package discord_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// observer counts what an adapter reports.
type observer struct{ retries, waits atomic.Int64 }

func (o *observer) OutboundRetry(string)                { o.retries.Add(1) }
func (o *observer) RateLimitWait(string, time.Duration) { o.waits.Add(1) }

// A burst of 100 messages in four channels, each answered by the echo
// bot: every answer is posted, and not one request breaks the fake's
// limits (5 per channel per second, 50 a second for the bot), because
// discordgo's buckets read the X-RateLimit headers and the adapter's
// transport paces the global limit.
func TestBurstOf100KeepsTheLimits(t *testing.T) {
	srv := discordtest.New(t)
	var obs observer
	run(t, newAdapter(t, srv, discord.Config{}), echo.New(), adapters.WithObserver(&obs))
	for i := range 100 {
		srv.Say(discordtest.Message{ChannelID: fmt.Sprintf("300000000000000000%d", i%4), GuildID: guild, Content: fmt.Sprint(i)})
	}
	posted := srv.AwaitPosted(t, 100)
	if v := srv.Violations(); len(v) != 0 {
		t.Fatalf("%d requests broke the limits, first %v", len(v), v[0])
	}
	if n := srv.RateLimited(); n != 0 {
		t.Errorf("%d answers were 429, want none", n)
	}
	perChannel := map[string]int{}
	for _, p := range posted {
		perChannel[p.ChannelID]++
	}
	for c, n := range perChannel {
		if n != 25 {
			t.Errorf("channel %s got %d answers, want 25", c, n)
		}
	}
	if obs.waits.Load() == 0 {
		t.Error("no rate-limit wait was reported to the observer")
	}
}

// Two processes of one bot post to one channel, each with its own
// buckets: the second runs into the first's bucket and gets 429s. Each
// 429 is waited out for its retry_after, so no request lands inside one,
// and every message is posted once.
func TestTwoProcessesWaitOutTheir429s(t *testing.T) {
	srv := discordtest.New(t)
	const channel = "3000000000000000009"
	var wg sync.WaitGroup
	var obs observer
	for p := range 2 {
		a := newAdapter(t, srv, discord.Config{Retries: 20})
		h := run(t, a, echo.New(), adapters.WithObserver(&obs))
		wg.Go(func() {
			for i := range 10 {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				if err := h.Push(ctx, discord.Send{ChannelID: channel, Content: fmt.Sprintf("%d-%d", p, i)}); err != nil {
					t.Errorf("push %d-%d: %v", p, i, err)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	posted := srv.Posted()
	if len(posted) != 20 {
		t.Fatalf("%d messages posted, want 20", len(posted))
	}
	if srv.RateLimited() == 0 || obs.retries.Load() == 0 {
		t.Fatalf("%d 429s, %d retries: the two processes never met the limit, so the test shows nothing", srv.RateLimited(), obs.retries.Load())
	}
	for _, v := range srv.Violations() {
		if v.Kind == "retry_after" {
			t.Errorf("a request inside a 429's window: %v", v)
		}
	}
}

// Without a pace of its own, the adapter meets Discord's global limit:
// once a global 429 is in, no route makes a request until its retry_after
// has passed. Requests already in flight when the 429 came are not the
// adapter's to stop, so the check is made where the requests leave.
func TestGlobal429PausesEveryRoute(t *testing.T) {
	srv := discordtest.New(t, discordtest.WithLimits(discordtest.Limits{Route: 100, Global: 10}))
	rec := &leaving{base: http.DefaultTransport}
	a := newAdapter(t, srv, discord.Config{GlobalRate: -1, Retries: 20}, discord.WithTransport(rec))
	h := run(t, a, echo.New())
	var wg sync.WaitGroup
	for c := range 5 {
		wg.Go(func() {
			for i := range 6 {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				if err := h.Push(ctx, discord.Send{ChannelID: fmt.Sprint(3000000000000000100 + c), Content: fmt.Sprint(i)}); err != nil {
					t.Errorf("push: %v", err)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	if n := len(srv.Posted()); n != 30 {
		t.Fatalf("%d posted, want 30", n)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.windows) == 0 {
		t.Fatal("no global 429: the test shows nothing")
	}
	// Each of the other four routes may have passed the adapter's gate
	// before the 429 was read and, on a loaded machine, leave any time
	// later: those are not the adapter's to hold back. A fifth request in
	// one window is one the adapter let through after it knew.
	const passedBefore = 4
	for _, w := range rec.windows {
		var inside []string
		for _, s := range rec.starts {
			if s.After(w[0]) && s.Before(w[1]) {
				inside = append(inside, s.Format(".000000"))
			}
		}
		if len(inside) > passedBefore {
			t.Errorf("%d requests left at %v, inside a global 429's window %s to %s: more than the %d other routes could have let through before it",
				len(inside), inside, w[0].Format(".000000"), w[1].Format(".000000"), passedBefore)
		}
	}
}

// leaving records when each request leaves the adapter, and the windows
// of the global 429s it receives.
type leaving struct {
	base    http.RoundTripper
	mu      sync.Mutex
	starts  []time.Time
	windows [][2]time.Time
}

func (l *leaving) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.starts = append(l.starts, time.Now())
	l.mu.Unlock()
	resp, err := l.base.RoundTrip(r)
	if err != nil || resp.Header.Get("X-RateLimit-Global") == "" {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tooMany struct {
		RetryAfter float64 `json:"retry_after"`
	}
	_ = json.Unmarshal(body, &tooMany)
	now := time.Now()
	l.mu.Lock()
	// The fake's window ended at most retry_after after this moment. It
	// begins for the adapter once the adapter has read the answer, plus a
	// millisecond: a request another route had already let through may
	// leave in the microseconds between (seen under load), and is not one
	// the adapter could hold back.
	i := len(l.windows)
	l.windows = append(l.windows, [2]time.Time{now, now.Add(time.Duration(tooMany.RetryAfter*float64(time.Second)) - time.Millisecond)})
	l.mu.Unlock()
	resp.Body = &readBody{Reader: bytes.NewReader(body), read: func() {
		l.mu.Lock()
		l.windows[i][0] = time.Now().Add(time.Millisecond)
		l.mu.Unlock()
	}}
	return resp, nil
}

// readBody calls read once, when its reader is first closed or read to
// the end.
type readBody struct {
	*bytes.Reader
	read func()
	once sync.Once
}

func (b *readBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF {
		b.once.Do(b.read)
	}
	return n, err
}

func (b *readBody) Close() error {
	b.once.Do(b.read)
	return nil
}
