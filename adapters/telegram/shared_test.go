package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/ratelimit"
)

// sendFromTwo makes two adapters for one bot, as two processes run, and
// pushes per messages to chat from each at once. shared, when set, is the
// Limiter both keep the bot's limits on.
func sendFromTwo(t *testing.T, srv *telegramtest.Server, clock fastClock, shared ratelimit.Limiter, chat int64, per int) {
	t.Helper()
	cfg := testConfig(srv)
	cfg.Limits = telegram.Limits{} // Telegram's: 30/s, 1/s per chat
	var wg sync.WaitGroup
	for p := range 2 {
		opts := []telegram.Option{telegram.WithClock(clock)}
		if shared != nil {
			opts = append(opts, telegram.WithSharedLimits(shared))
		}
		a, _ := newAdapter(t, cfg, opts...)
		wg.Go(func() {
			for i := range per {
				if err := a.Push(context.Background(), telegram.Send{ChatID: chat, Text: fmt.Sprintf("p%d-%d", p, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// slots records the slots a Limiter hands out, by key, on its clock.
type slots struct {
	ratelimit.Limiter
	now func() time.Time
	mu  sync.Mutex
	at  map[string][]time.Time
}

func (s *slots) Reserve(ctx context.Context, limits ...ratelimit.Limit) (time.Duration, error) {
	d, err := s.Limiter.Reserve(ctx, limits...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range limits {
		s.at[l.Key] = append(s.at[l.Key], s.now().Add(d))
	}
	return d, err
}

// Two processes sending to one chat keep its limit together on a shared
// Limiter: the chat's slots, whichever process took them, are a second
// apart. Without it each keeps the limit alone, and Telegram refuses
// some of their messages.
func TestSharedLimitsAcrossProcesses(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			clock := fastClock{start: time.Now(), speed: 4}
			srv := telegramtest.New(t, telegramtest.WithClock(clock.Now), telegramtest.WithFloodControl())
			var l *slots
			if shared {
				// The fake clock stands still for the Limiter between
				// its readings in one call, so slots are exact.
				l = &slots{Limiter: ratelimit.NewMemory(ratelimit.WithNow(clock.Now)), now: clock.Now, at: map[string][]time.Time{}}
				sendFromTwo(t, srv, clock, l, 5, 4)
			} else {
				sendFromTwo(t, srv, clock, nil, 5, 4)
			}
			ok := 0
			for _, c := range srv.Calls("sendMessage") {
				if c.Status == 200 {
					ok++
				}
			}
			if ok != 8 {
				t.Errorf("%d of 8 messages delivered", ok)
			}
			floods := srv.Floods()
			t.Logf("shared=%v: %d refused by the fake", shared, floods)
			if !shared {
				if floods == 0 {
					t.Error("no message refused without shared limits: the test cannot tell them apart")
				}
				return
			}
			// Spacing is checked where the Limiter decides it: arrival
			// times at the fake add a loaded machine's delays.
			key := "telegram:{" + strings.Split(srv.Token(), ":")[0] + "}:chat:5"
			at := slices.Clone(l.at[key])
			slices.SortFunc(at, time.Time.Compare)
			if len(at) < 8 {
				t.Fatalf("%d slots of the chat taken, want 8 at least", len(at))
			}
			for i := 1; i < len(at); i++ {
				if gap := at[i].Sub(at[i-1]); gap < time.Second-time.Millisecond {
					t.Errorf("slots %d and %d of the chat %v apart, want 1s", i-1, i, gap)
				}
			}
		})
	}
}

// pauseSignal tells when a pause was set on its Limiter.
type pauseSignal struct {
	ratelimit.Limiter
	paused chan string
}

func (p pauseSignal) Pause(ctx context.Context, key string, d time.Duration) error {
	err := p.Limiter.Pause(ctx, key, d)
	p.paused <- key
	return err
}

// A 429 that one process meets pauses the chat for the others: another
// process's next message to it goes after retry_after, while its messages
// to other chats go at once.
func TestSharedLimitsPauseEveryProcess(t *testing.T) {
	clock := fastClock{start: time.Now(), speed: 4}
	srv := telegramtest.New(t, telegramtest.WithClock(clock.Now))
	shared := pauseSignal{Limiter: ratelimit.NewMemory(ratelimit.WithNow(clock.Now)), paused: make(chan string, 1)}
	cfg := testConfig(srv)
	const retryAfter = 3 * time.Second
	srv.Fail("sendMessage", 1, telegramtest.TooManyRequests(int(retryAfter/time.Second)))
	a, _ := newAdapter(t, cfg, telegram.WithClock(clock), telegram.WithSharedLimits(shared))
	b, _ := newAdapter(t, cfg, telegram.WithClock(clock), telegram.WithSharedLimits(shared))
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- a.Push(ctx, telegram.Send{ChatID: 9, Text: "refused, then sent"}) }()
	if key := <-shared.paused; key != "telegram:{"+strings.Split(srv.Token(), ":")[0]+"}:chat:9" {
		t.Errorf("paused %q, want the chat's key", key)
	}
	if err := b.Push(ctx, telegram.Send{ChatID: 10, Text: "another chat"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Push(ctx, telegram.Send{ChatID: 9, Text: "from b"}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls("sendMessage")
	if len(calls) != 4 || calls[0].Status != 429 {
		t.Fatalf("calls: %+v, want a 429 and three sent", calls)
	}
	at := map[string]time.Time{}
	for _, c := range calls[1:] {
		at[c.Params.Get("text")] = c.Time
	}
	if gap := at["from b"].Sub(calls[0].Time); gap < retryAfter {
		t.Errorf("b's message to the paused chat came %v after the 429, want at least %v", gap, retryAfter)
	}
	if gap := at["another chat"].Sub(calls[0].Time); gap >= retryAfter {
		t.Errorf("b's message to another chat came %v after the 429: the pause held it back", gap)
	}
}

// unreachable is a shared Limiter whose backend never answers.
type unreachable struct{}

var errUnreachable = errors.New("dial tcp 127.0.0.1:1: connection refused")

func (unreachable) Reserve(context.Context, ...ratelimit.Limit) (time.Duration, error) {
	return 0, errUnreachable
}
func (unreachable) Settle(context.Context, ...ratelimit.Limit) error   { return errUnreachable }
func (unreachable) Pause(context.Context, string, time.Duration) error { return errUnreachable }

// With its shared limits unreachable (Redis down), a process still sends
// every message, under its own limits, and says why.
func TestSharedLimitsUnreachableLoseNothing(t *testing.T) {
	srv := telegramtest.New(t)
	a, logs := newAdapter(t, testConfig(srv), telegram.WithSharedLimits(unreachable{}))
	for i := range 3 {
		if err := a.Push(context.Background(), telegram.Send{ChatID: 5, Text: fmt.Sprintf("m%d", i)}); err != nil {
			t.Fatalf("message %d with the shared limits unreachable: %v", i, err)
		}
	}
	if n := srv.SentCount(); n != 3 {
		t.Fatalf("%d of 3 messages reached Telegram", n)
	}
	if !strings.Contains(logs.String(), "shared rate limits unreachable") {
		t.Fatalf("no warning that the shared limits are unreachable:\n%s", logs.String())
	}
}
