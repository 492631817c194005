package telegram_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/scope"
)

// A poller killed mid-stream (its context cancelled: a hard stop, no
// Shutdown) and a new one on the same fake handle every update: each in
// chat order, and the second handles again only what Telegram still had
// in flight after the kill (taken, never confirmed).
func TestRestartMidStreamLosesNothing(t *testing.T) {
	srv := telegramtest.New(t)
	rec1, rec2 := newRecorder(), newRecorder()
	const chats, per = 10, 40
	total := chats * per
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := range per {
			for c := range chats {
				srv.Text(int64(100+c), int64(100+c), fmt.Sprintf("c%d-%d", c, i))
			}
		}
	}()
	cfg := testConfig(srv)
	cfg.Polling.Limit = 7 // many small batches, so the kill lands mid-stream
	a1, _ := newAdapter(t, cfg)
	r1 := start(t, a1, rec1)
	rec1.await(t, "a third of the updates", func() bool { return rec1.handledLocked() >= total/3 })
	r1.kill(t)
	inFlight := srv.InFlight()

	a2, _ := newAdapter(t, cfg)
	start(t, a2, rec2)
	<-produced
	union := func() int {
		n := len(rec2.texts)
		rec1.mu.Lock()
		for text := range rec1.texts {
			if rec2.texts[text] == 0 {
				n++
			}
		}
		rec1.mu.Unlock()
		return n
	}
	rec2.await(t, "every update", func() bool { return union() == total })

	rec1.mu.Lock()
	defer rec1.mu.Unlock()
	rec2.mu.Lock()
	defer rec2.mu.Unlock()
	if len(rec1.texts) == total {
		t.Fatalf("the first adapter handled everything (%d) before it was killed; the test proves nothing", total)
	}
	dups := 0
	for text := range rec1.texts {
		if rec2.texts[text] > 0 {
			dups++
		}
	}
	t.Logf("handled twice: %d; in flight after the kill: %d", dups, inFlight)
	if dups > inFlight {
		t.Errorf("%d updates handled twice, more than the %d in flight after the kill", dups, inFlight)
	}
	for _, rec := range []*recorder{rec1, rec2} {
		for text, n := range rec.texts {
			if n != 1 {
				t.Errorf("%s handled %d times by one adapter", text, n)
			}
		}
		for c := range chats {
			got := rec.order[int64(100+c)]
			for i := 1; i < len(got); i++ {
				var prev, cur int
				fmt.Sscanf(got[i-1], "c%d-%d", new(int), &prev)
				fmt.Sscanf(got[i], "c%d-%d", new(int), &cur)
				if cur != prev+1 {
					t.Fatalf("chat %d: %q after %q: out of order or a gap", c, got[i], got[i-1])
				}
			}
		}
	}
}

// An update is confirmed only after its handler returned: while one
// chat's handler is stuck (and its inbox full), neither its update nor
// any after it is confirmed to Telegram, and other chats go on meanwhile.
func TestOffsetConfirmedOnlyAfterHandling(t *testing.T) {
	srv := telegramtest.New(t)
	rec := newRecorder()
	release := rec.hold(1)
	defer release()
	a, _ := newAdapter(t, testConfig(srv))
	start(t, a, rec, adapters.WithScopes(scope.Config{IdleTimeout: -1, InboxSize: 1}))

	first := srv.Text(1, 1, "slow-1") // stuck in the handler
	srv.Text(1, 1, "slow-2")          // fills the inbox
	stuck := srv.Text(1, 1, "slow-3")
	srv.Text(2, 2, "fast-1")
	rec.await(t, "the other chat", func() bool { return rec.texts["fast-1"] == 1 })
	after := srv.Text(2, 2, "fast-2")
	rec.await(t, "the other chat again", func() bool { return rec.texts["fast-2"] == 1 })

	// The poller has fetched past the stuck updates at least twice by
	// now; no offset it sent may have confirmed the one being handled.
	for _, c := range srv.Calls("getUpdates") {
		if off, _ := strconv.Atoi(c.Params.Get("offset")); off > first {
			t.Fatalf("getUpdates offset %d confirmed update %d before its handler returned", off, first)
		}
	}
	if n := srv.Pending(); n < after-first+1 {
		t.Fatalf("%d updates pending at the fake, want the %d from the stuck one on", n, after-first+1)
	}
	_ = stuck
	release()
	rec.await(t, "the slow chat", func() bool { return rec.texts["slow-3"] == 1 })
	// Telegram learns the new offset with the next getUpdates: an update
	// ends the long poll now rather than at its timeout.
	srv.Text(2, 2, "fast-3")
	if err := srv.AwaitConfirmed(after, wait); err != nil {
		t.Fatal(err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := strings.Join(rec.order[1], ","); got != "slow-1,slow-2,slow-3" {
		t.Fatalf("slow chat handled %s", got)
	}
}

// Polling rides out 5xx, 409 and 429 answers to getUpdates.
func TestPollingSurvivesErrors(t *testing.T) {
	srv := telegramtest.New(t)
	srv.Fail("getUpdates", 2, telegramtest.ServerError())
	srv.Fail("getUpdates", 1, telegramtest.Conflict())
	srv.Fail("getUpdates", 1, telegramtest.TooManyRequests(0))
	rec := newRecorder()
	a, logs := newAdapter(t, testConfig(srv))
	start(t, a, rec)
	srv.Text(5, 5, "after the storm")
	rec.await(t, "the message", func() bool { return rec.texts["after the storm"] == 1 })
	if !strings.Contains(logs.String(), "another process polls this token") {
		t.Errorf("the 409 was not explained in the log:\n%s", logs)
	}
	noToken(t, srv, logs.String())
}

// A token Telegram refuses stops Run with ErrUnauthorized.
func TestUnauthorizedStopsRun(t *testing.T) {
	srv := telegramtest.New(t)
	cfg := testConfig(srv)
	cfg.Token = "999:wrong"
	a, _ := newAdapter(t, cfg)
	r := start(t, a, newRecorder())
	<-r.done
	if !errors.Is(r.err, telegram.ErrUnauthorized) {
		t.Fatalf("Run: %v, want ErrUnauthorized", r.err)
	}
	r.err = nil // checked: the cleanup need not
}

// Scopes: one per chat, per forum topic, and per member with chat_user;
// the scope carries the chat, the user and the bot.
func TestScopes(t *testing.T) {
	srv := telegramtest.New(t)
	rec := newRecorder()
	cfg := testConfig(srv)
	cfg.KeyBy = telegram.KeyChatUser
	a, _ := newAdapter(t, cfg)
	start(t, a, rec)
	srv.Text(7, 7, "private")
	srv.Text(-50, 8, "group by 8")
	srv.Text(-50, 9, "group by 9")
	srv.TopicText(-50, 33, 8, "topic by 8")
	rec.await(t, "four messages", func() bool { return rec.handledLocked() == 4 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, key := range []string{"7", "-50/8", "-50/9", "-50:33/8"} {
		if rec.scopes[key] == nil {
			t.Errorf("no scope for key %q; have %v", key, keys(rec.scopes))
		}
	}
	s := rec.scopes["-50:33/8"]
	if s == nil {
		return
	}
	bot := srv.Bot()
	want := scope.Scope{Type: "telegram", Adapter: "tg", Key: "-50:33/8", Thread: "33",
		Chat: scope.Chat{ID: "-50", Type: "supergroup", Title: "Group 50"},
		User: scope.User{ID: "8", Name: "User8 Test", Username: "user8", Language: "en"},
		Bot:  scope.User{ID: strconv.FormatInt(bot.ID, 10), Name: bot.FirstName, Username: bot.UserName}}
	if s.Type != want.Type || s.Adapter != want.Adapter || s.Key != want.Key || s.Thread != want.Thread ||
		s.Chat != want.Chat || s.User != want.User || s.Bot != want.Bot {
		t.Fatalf("scope\n got %+v\nwant %+v", *s, want)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A getUpdates answer laid out otherwise than Telegram's compact JSON
// (indented, its fields in another order, a field more) is decoded in
// full: its updates are handled all the same.
func TestPollingReadsAnyLayoutOfTheAnswer(t *testing.T) {
	srv := telegramtest.New(t)
	var relaid atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(mustParse(t, srv.URL()))
	proxy.ModifyResponse = func(r *http.Response) error {
		if !strings.HasSuffix(r.Request.URL.Path, "/getUpdates") || r.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		_ = r.Body.Close()
		var env struct {
			OK     bool            `json:"ok"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return err
		}
		var out bytes.Buffer
		fmt.Fprintf(&out, "{\n  \"result\": %s,\n  \"ok\": %t, \"note\": \"}\"\n}\n", env.Result, env.OK)
		relaid.Add(1)
		r.Body = io.NopCloser(&out)
		r.ContentLength = int64(out.Len())
		r.Header.Set("Content-Length", strconv.Itoa(out.Len()))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	cfg := testConfig(srv)
	cfg.Endpoint = front.URL + "/bot%s/%s"
	rec := newRecorder()
	a, _ := newAdapter(t, cfg)
	start(t, a, rec)
	for i := range 3 {
		srv.Text(int64(10+i), int64(10+i), "relaid "+strconv.Itoa(i))
	}
	rec.await(t, "the three messages", func() bool { return rec.handledLocked() == 3 })
	if relaid.Load() == 0 {
		t.Fatal("no getUpdates answer went through the proxy; the test proves nothing")
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A slow update near the watermark does not leave the handlers idle:
// once most of a full window is handled around it, and the watermark
// moved a fifth of a poll's limit, the poller polls again and the updates
// after the window are handled while the slow one still is, yet no
// offset past the slow one reaches Telegram.
func TestPollsAgainWhileASlowUpdateHoldsTheWatermark(t *testing.T) {
	srv := telegramtest.New(t)
	const limit = 10
	ids := make([]int, 2*limit)
	for i := range ids {
		ids[i] = srv.Text(int64(1+i), int64(1+i), "m"+strconv.Itoa(i+1)) // chat i+1 says m<i+1>
	}
	slow := ids[2] // the third of the first window: the watermark moves two
	rec := newRecorder()
	release := rec.hold(3)
	defer release()
	cfg := testConfig(srv)
	cfg.Polling.Limit = limit
	a, _ := newAdapter(t, cfg)
	start(t, a, rec)
	rec.await(t, "the updates after the first window, the slow one still held", func() bool {
		return rec.texts["m"+strconv.Itoa(limit+1)] == 1 && rec.texts["m"+strconv.Itoa(limit+2)] == 1
	})
	rec.mu.Lock()
	held := rec.texts["m3"]
	rec.mu.Unlock()
	if held != 0 {
		t.Fatal("the slow update was handled; the test proves nothing")
	}
	for _, off := range srv.Offsets() {
		if off > slow {
			t.Fatalf("getUpdates offset %d confirmed update %d before its handler returned", off, slow)
		}
	}
	release()
	rec.await(t, "every update", func() bool { return rec.handledLocked() == len(ids) })
}
