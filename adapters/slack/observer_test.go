package slack_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
)

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// A 429 with Retry-After and a 500 are each reported as a retry. Every
// wait the adapter made is reported as a rate-limit wait, the Retry-After
// first, except the backoff after the 500, which is no rate limit.
func TestObserverSeesRetriesAndWaits(t *testing.T) {
	clk := &stillClock{t: time.Unix(1_700_000_000, 0)}
	obs := &adaptertest.Observer{}
	e := newEnv(t, slack.ModeHTTP, nil, clk.option(), adapters.WithObserver(obs))
	e.run(t, newRecorder(nil))
	e.fake.Fail("chat.postMessage", fakeslack.Failure{Status: 429, RetryAfter: 7}, fakeslack.Failure{Status: 500})
	if err := e.a.Push(context.Background(), slack.Send{Channel: "C1", Text: "through"}); err != nil {
		t.Fatalf("push after a 429 and a 500: %v", err)
	}
	if calls := e.fake.Calls("chat.postMessage"); len(calls) != 3 || calls[2].Err != "" {
		t.Fatalf("calls %+v", calls)
	}
	retries, waits := obs.Recorded()
	if !slices.Equal(retries, []string{"slk", "slk"}) {
		t.Errorf("retries %q, want two of adapter slk", retries)
	}
	if len(waits) == 0 || waits[0] != (adaptertest.Wait{Adapter: "slk", D: 7 * time.Second}) {
		t.Fatalf("waits %v, want the 7s Retry-After first", waits)
	}
	var reported []time.Duration
	for _, w := range waits {
		if w.Adapter != "slk" || w.D <= 0 {
			t.Errorf("wait %v: want a positive wait of adapter slk", w)
		}
		reported = append(reported, w.D)
	}
	// The stopped clock makes the method's limiter, paused by the 429,
	// hold every later call back too: those waits are reported as well.
	// The 500 was the second attempt: its backoff is 200ms.
	const backoff = 200 * time.Millisecond
	if slept := clk.recorded(); sum(slept)-sum(reported) != backoff || !slices.Contains(slept, backoff) {
		t.Errorf("the clock waited %v, the observer was told %v: want all but the 200ms backoff", slept, reported)
	}
}

// A channel's pace is a rate-limit wait; response_url posts that fail on
// the network are retried and reported, with no wait, having no limiter.
func TestObserverSeesLimiterWaitsAndNetworkRetries(t *testing.T) {
	clk := &stillClock{t: time.Unix(1_700_000_000, 0)}
	obs := &adaptertest.Observer{}
	e := newEnv(t, slack.ModeHTTP, func(c *slack.Config) { c.PostRate, c.PostBurst, c.MaxRetries = 1, 3, 2 },
		clk.option(), adapters.WithObserver(obs))
	e.run(t, newRecorder(nil))
	ctx := context.Background()
	for i := range 5 {
		if err := e.a.Push(ctx, slack.Send{Channel: "CBUSY", Text: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	retries, waits := obs.Recorded()
	want := []adaptertest.Wait{{Adapter: "slk", D: time.Second}, {Adapter: "slk", D: 2 * time.Second}}
	if len(retries) != 0 || !slices.Equal(waits, want) {
		t.Fatalf("retries %q, waits %v; want none and %v", retries, waits, want)
	}

	err := e.a.Push(ctx, slack.Respond{ResponseURL: "http://127.0.0.1:1/respond", Text: "x"})
	if err == nil {
		t.Fatal("a post to nowhere succeeded")
	}
	retries, after := obs.Recorded()
	if len(retries) != 2 || len(after) != len(waits) {
		t.Errorf("retries %q, waits %v after the post to nowhere; want 2 retries and no new wait", retries, after)
	}
}

// Without an observer the adapter rides out a 429 and a 500 as before:
// this is the path the nil checks guard.
func TestObserverNilIsNone(t *testing.T) {
	clk := &stillClock{t: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, slack.ModeHTTP, nil, clk.option(), adapters.WithObserver(nil))
	e.run(t, newRecorder(nil))
	e.fake.Fail("chat.postMessage", fakeslack.Failure{Status: 429, RetryAfter: 1}, fakeslack.Failure{Status: 500})
	if err := e.a.Push(context.Background(), slack.Send{Channel: "C1", Text: "x"}); err != nil {
		t.Fatalf("push without an observer: %v", err)
	}
}
