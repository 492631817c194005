package telegram_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// fastClock runs speed times faster than the wall clock. The adapter's
// limiter and the fake's call record read the same clock, so spacings are
// measured in the time the limiter believes in, without waiting seconds.
type fastClock struct {
	start time.Time
	speed time.Duration
}

func (c fastClock) Now() time.Time { return c.start.Add(time.Since(c.start) * c.speed) }

func (c fastClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(d/c.speed, func() { ch <- c.Now() })
	return ch
}

// A 429 storm is ridden out: every reply is delivered, in order per chat,
// and no chat, group or the bot as a whole ever gets messages faster than
// Telegram's default limits, nor a chat any before its retry_after ended.
func TestFloodStormRiddenOut(t *testing.T) {
	clock := fastClock{start: time.Now(), speed: 2}
	srv := telegramtest.New(t, telegramtest.WithClock(clock.Now))
	cfg := testConfig(srv)
	cfg.Limits = telegram.Limits{} // Telegram's: 30/s, 1/s per chat, 20/min per group
	rec := newRecorder()
	rec.reply = true
	sent := &releases{now: clock.Now, byChat: map[string][]time.Time{}}
	a, logs := newAdapter(t, cfg, telegram.WithClock(clock),
		telegram.WithHTTPClient(&http.Client{Transport: sent}))
	start(t, a, rec)

	const retryAfter = 2 * time.Second
	srv.Fail("sendMessage", 12, telegramtest.TooManyRequests(int(retryAfter/time.Second)))
	chats := []int64{-7} // a group
	for i := range 40 {
		chats = append(chats, int64(100+i))
	}
	const per = 3
	for k := range per {
		for _, c := range chats {
			srv.Text(c, 1, fmt.Sprintf("%d-%d", c, k))
		}
	}
	srv.WaitCalls(t, "sendMessage", len(chats)*per)

	// Spacing is checked where the limiter controls it, when the adapter
	// lets a call go: arrival times at the fake add scheduling delays
	// that a loaded machine makes longer than any fixed tolerance. The
	// fake's record gives each call's status, in the same order per chat,
	// since a chat's next call waits for the previous answer.
	const tolerance = 100 * time.Millisecond
	byChat := map[int64][]telegramtest.Call{}
	for _, c := range srv.Calls("sendMessage") {
		byChat[c.ChatID()] = append(byChat[c.ChatID()], c)
	}
	storms := 0
	for _, chat := range chats {
		calls := byChat[chat]
		spacing := time.Second
		if chat < 0 {
			spacing = 3 * time.Second // 20 per minute
		}
		var texts []string
		for i, c := range calls {
			if c.Status == http.StatusOK {
				texts = append(texts, c.Params.Get("text"))
			}
			if i == 0 {
				continue
			}
			times := sent.of(chat)
			if len(times) != len(calls) {
				t.Fatalf("chat %d: %d calls let go, %d arrived", chat, len(times), len(calls))
			}
			gap := times[i].Sub(times[i-1])
			need := spacing
			if calls[i-1].Status == http.StatusTooManyRequests {
				need, storms = retryAfter, storms+1
			}
			if gap < need-tolerance {
				t.Errorf("chat %d: call %d came %v after the previous one (status %d), want at least %v",
					chat, i, gap, calls[i-1].Status, need)
			}
		}
		for k, text := range texts {
			if want := fmt.Sprintf("re: %d-%d", chat, k); text != want {
				t.Fatalf("chat %d: reply %d is %q, want %q", chat, k, text, want)
			}
		}
		if len(texts) != per {
			t.Fatalf("chat %d got %d replies, want %d", chat, len(texts), per)
		}
	}
	if storms != 12 {
		t.Errorf("%d calls followed a 429, want 12", storms)
	}
	all := sent.all()
	for i := range all {
		n := 0
		for j := i; j < len(all) && all[j].Sub(all[i]) < time.Second; j++ {
			n++
		}
		if n > 30+int(tolerance/(time.Second/30)) {
			t.Fatalf("%d calls within a second from %v: over the bot's 30/s", n, all[i])
		}
	}
	noToken(t, srv, logs.String())
}

// releases records, on the adapter's side of the wire, when each
// sendMessage call was let go, by chat.
type releases struct {
	now    func() time.Time
	mu     sync.Mutex
	byChat map[string][]time.Time
	every  []time.Time
}

func (r *releases) RoundTrip(req *http.Request) (*http.Response, error) {
	at := r.now()
	if strings.HasSuffix(req.URL.Path, "/sendMessage") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		r.mu.Lock()
		chat := form.Get("chat_id")
		r.byChat[chat] = append(r.byChat[chat], at)
		r.every = append(r.every, at)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *releases) of(chat int64) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.byChat[strconv.FormatInt(chat, 10)])
}

func (r *releases) all() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := slices.Clone(r.every)
	slices.SortFunc(all, time.Time.Compare)
	return all
}
