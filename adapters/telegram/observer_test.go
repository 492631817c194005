package telegram_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/adaptertest"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// jumpClock stands still until asked to wait, then jumps ahead by the
// wait and fires at once: waits take no real time, yet the limiter sees
// time move as if they had been spent. It records every wait asked.
type jumpClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

// take returns the waits asked since the last take.
func (c *jumpClock) take() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slept
	c.slept = nil
	return s
}

// A 429 and a 500 are each reported as a retry; the 429's retry_after is
// reported as a rate-limit wait, whether it pauses a chat or the whole
// bot, and the backoff after the 500 is not, though it was slept.
func TestObserverSeesRetriesAndWaits(t *testing.T) {
	srv := telegramtest.New(t)
	clock := &jumpClock{t: time.Unix(1_700_000_000, 0)}
	obs := &adaptertest.Observer{}
	cfg := testConfig(srv) // no rate limits: only the 429 makes a wait
	cfg.Retry.MinBackoff = 5 * time.Millisecond
	a, _ := newAdapter(t, cfg, telegram.WithClock(clock), telegram.WithObserver(obs))
	ctx := context.Background()

	srv.Fail("sendMessage", 1, telegramtest.TooManyRequests(3))
	srv.Fail("sendMessage", 1, telegramtest.ServerError())
	if err := a.Push(ctx, telegram.Send{ChatID: 5, Text: "through"}); err != nil {
		t.Fatalf("push after a 429 and a 500: %v", err)
	}
	if got := srv.Texts(5); len(got) != 1 {
		t.Fatalf("chat 5 got %q", got)
	}
	retries, waits := obs.Take()
	if !slices.Equal(retries, []string{"tg", "tg"}) {
		t.Errorf("retries %q, want two of adapter tg", retries)
	}
	if !slices.Equal(waits, []adaptertest.Wait{{Adapter: "tg", D: 3 * time.Second}}) {
		t.Errorf("waits %v, want the 3s retry_after only", waits)
	}
	if slept := clock.take(); !slices.Contains(slept, 5*time.Millisecond) {
		t.Errorf("the clock slept %v: no 5ms backoff after the 500, so the test proves nothing about it", slept)
	}

	// A call to no chat that gets a 429 pauses the whole bot.
	srv.Fail("answerCallbackQuery", 1, telegramtest.TooManyRequests(2))
	if err := a.Push(ctx, telegram.AnswerCallback{CallbackQueryID: "q"}); err != nil {
		t.Fatalf("answer after a 429: %v", err)
	}
	retries, waits = obs.Take()
	if !slices.Equal(retries, []string{"tg"}) || !slices.Equal(waits, []adaptertest.Wait{{Adapter: "tg", D: 2 * time.Second}}) {
		t.Errorf("bot pause: retries %q, waits %v; want one retry and a 2s wait", retries, waits)
	}
}

// The limiter's own spacing is a rate-limit wait too; a network error is
// a retry.
func TestObserverSeesLimiterWaitsAndNetworkRetries(t *testing.T) {
	srv := telegramtest.New(t)
	clock := &jumpClock{t: time.Unix(1_700_000_000, 0)}
	obs := &adaptertest.Observer{}
	cfg := testConfig(srv)
	cfg.Limits.Chat = 1 // a private chat gets one message a second
	a, _ := newAdapter(t, cfg, telegram.WithClock(clock), telegram.WithObserver(obs))
	ctx := context.Background()
	for _, text := range []string{"one", "two"} {
		if err := a.Push(ctx, telegram.Send{ChatID: 7, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	retries, waits := obs.Take()
	if len(retries) != 0 || !slices.Equal(waits, []adaptertest.Wait{{Adapter: "tg", D: time.Second}}) {
		t.Errorf("retries %q, waits %v; want none and the second message's 1s", retries, waits)
	}

	cfg.Endpoint = "http://127.0.0.1:1/bot%s/%s" // nothing listens there
	cfg.Retry.MaxAttempts = 3
	down, _ := newAdapter(t, cfg, telegram.WithClock(clock), telegram.WithObserver(obs))
	var ne *telegram.NetError
	if err := down.Push(ctx, telegram.Send{ChatID: 7, Text: "x"}); !errors.As(err, &ne) {
		t.Fatalf("push to nowhere: %v, want a NetError", err)
	}
	if retries, _ := obs.Take(); len(retries) != 2 {
		t.Errorf("%d retries reported for 3 attempts, want 2", len(retries))
	}
}

// Without an observer the adapter works as before: this is the path the
// nil checks guard.
func TestObserverNilIsNone(t *testing.T) {
	srv := telegramtest.New(t)
	srv.Fail("sendMessage", 1, telegramtest.TooManyRequests(1))
	srv.Fail("sendMessage", 1, telegramtest.ServerError())
	a, _ := newAdapter(t, testConfig(srv), telegram.WithClock(&jumpClock{}), telegram.WithObserver(nil))
	if err := a.Push(context.Background(), telegram.Send{ChatID: 5, Text: "x"}); err != nil {
		t.Fatalf("push without an observer: %v", err)
	}
	if got := srv.Texts(5); len(got) != 1 {
		t.Fatalf("chat 5 got %q", got)
	}
}
