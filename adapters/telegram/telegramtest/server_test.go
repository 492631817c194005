package telegramtest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func bot(t *testing.T, srv *telegramtest.Server) *tgbotapi.BotAPI {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	b, err := tgbotapi.NewBotAPIWithClient(srv.Token(), srv.Endpoint(), &http.Client{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// getUpdates as documented: updates below the offset are forgotten for
// good; a long poll returns as soon as an update arrives.
func TestGetUpdatesOffsetAndLongPoll(t *testing.T) {
	srv := telegramtest.New(t)
	b := bot(t, srv)
	if b.Self.UserName != srv.Bot().UserName {
		t.Fatalf("getMe: %+v", b.Self)
	}
	first := srv.Text(1, 1, "a")
	srv.Text(1, 1, "b")
	ups, err := b.GetUpdates(tgbotapi.UpdateConfig{Limit: 1})
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "a" {
		t.Fatalf("limit 1: %v %+v", err, ups)
	}
	ups, _ = b.GetUpdates(tgbotapi.UpdateConfig{})
	if len(ups) != 2 {
		t.Fatalf("unconfirmed updates must come again: %d", len(ups))
	}
	ups, _ = b.GetUpdates(tgbotapi.UpdateConfig{Offset: first + 1})
	if len(ups) != 1 || ups[0].Message.Text != "b" {
		t.Fatalf("after the offset: %+v", ups)
	}
	ups, _ = b.GetUpdates(tgbotapi.UpdateConfig{})
	if len(ups) != 1 {
		t.Fatalf("update %d was confirmed and must be forgotten; got %d updates", first, len(ups))
	}
	got := make(chan []tgbotapi.Update, 1)
	go func() {
		ups, _ := b.GetUpdates(tgbotapi.UpdateConfig{Offset: first + 2, Timeout: 30})
		got <- ups
	}()
	srv.WaitCalls(t, "getUpdates", 4) // the long poll may not have arrived yet; the update wakes it either way
	srv.Text(2, 2, "c")
	select {
	case ups := <-got:
		if len(ups) != 1 || ups[0].Message.Text != "c" {
			t.Fatalf("long poll: %+v", ups)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the long poll did not return when an update arrived")
	}
}

// Scripted failures come back as the library's errors, with Telegram's
// codes and retry_after; blocked chats get 403.
func TestScriptedErrors(t *testing.T) {
	srv := telegramtest.New(t)
	b := bot(t, srv)
	srv.Fail("sendMessage", 1, telegramtest.TooManyRequests(7))
	_, err := b.Send(tgbotapi.NewMessage(5, "x"))
	var te *tgbotapi.Error
	if !errors.As(err, &te) || te.Code != 429 || te.RetryAfter != 7 {
		t.Fatalf("429: %v", err)
	}
	srv.Block(5)
	if _, err := b.Send(tgbotapi.NewMessage(5, "x")); !errors.As(err, &te) || te.Code != 403 {
		t.Fatalf("403: %v", err)
	}
	if _, err := b.Send(tgbotapi.NewMessage(6, "ok")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Texts(6); len(got) != 1 || got[0] != "ok" {
		t.Fatalf("texts %q", got)
	}
	if len(srv.Calls("sendMessage")) != 3 {
		t.Fatalf("every call is recorded, failed ones too")
	}
}

// Flood control answers a second message to a private chat within a
// second 429 with parameters.retry_after, as the Bot API does.
func TestFloodControl(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithFloodControl())
	b := bot(t, srv)
	if _, err := b.Send(tgbotapi.NewMessage(5, "one")); err != nil {
		t.Fatal(err)
	}
	_, err := b.Send(tgbotapi.NewMessage(5, "two"))
	var te *tgbotapi.Error
	if !errors.As(err, &te) || te.Code != 429 || te.RetryAfter < 1 {
		t.Fatalf("second message within a second: %v, want a 429 with retry_after", err)
	}
	if _, err := b.Send(tgbotapi.NewMessage(6, "other chat")); err != nil {
		t.Fatalf("another chat: %v", err)
	}
	if n := srv.Floods(); n != 1 {
		t.Fatalf("%d floods counted, want 1", n)
	}
}

// The webhook sender posts several chats at once, up to max_connections,
// one chat's updates in order, and retries an update until it gets a 2xx.
func TestWebhookSenderParallelInChatOrder(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.WithWebhookRetry(time.Millisecond))
	const chats, per = 4, 5
	var (
		mu      sync.Mutex
		open    int
		maxOpen int
		order   = map[int64][]string{}
		failed  = false
		release = make(chan struct{})
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u tgbotapi.Update
		_ = json.NewDecoder(r.Body).Decode(&u)
		mu.Lock()
		open++
		maxOpen = max(maxOpen, open)
		reached := open == chats
		mu.Unlock()
		if reached {
			close(release) // every chat is being posted at once
		}
		<-release
		mu.Lock()
		defer mu.Unlock()
		open--
		if !failed && u.Message.Text == "1-2" {
			failed = true
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		order[u.Message.Chat.ID] = append(order[u.Message.Chat.ID], u.Message.Text)
	}))
	defer hook.Close()
	for i := range per {
		for c := range chats {
			srv.Text(int64(c+1), int64(c+1), fmt.Sprintf("%d-%d", c+1, i))
		}
	}
	if _, err := bot(t, srv).Request(tgbotapi.WebhookConfig{URL: mustURL(t, hook.URL), MaxConnections: chats}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AwaitConfirmed(chats*per, telegramtest.DefaultTimeout); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if maxOpen != chats {
		t.Errorf("%d requests open at most, want %d (max_connections)", maxOpen, chats)
	}
	for c := range chats {
		var want []string
		for i := range per {
			want = append(want, fmt.Sprintf("%d-%d", c+1, i))
		}
		if got := order[int64(c+1)]; !slices.Equal(got, want) {
			t.Errorf("chat %d got %q, want %q", c+1, got, want)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Confirmed counts, per chat, the updates an offset confirmed, and not
// those merely handed out.
func TestConfirmedByChat(t *testing.T) {
	srv := telegramtest.New(t)
	b := bot(t, srv)
	a1 := srv.Text(1, 1, "a1")
	srv.Text(2, 2, "b1")
	a2 := srv.Text(1, 1, "a2")
	if _, err := b.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Confirmed(1); n != 0 {
		t.Fatalf("updates handed out but not confirmed: Confirmed = %d, want 0", n)
	}
	if _, err := b.GetUpdates(tgbotapi.UpdateConfig{Offset: a1 + 1}); err != nil {
		t.Fatal(err)
	}
	if n1, n2 := srv.Confirmed(1), srv.Confirmed(2); n1 != 1 || n2 != 0 {
		t.Fatalf("after offset %d: Confirmed(1) = %d, Confirmed(2) = %d, want 1 and 0", a1+1, n1, n2)
	}
	if _, err := b.GetUpdates(tgbotapi.UpdateConfig{Offset: a2 + 1}); err != nil {
		t.Fatal(err)
	}
	if n1, n2 := srv.Confirmed(1), srv.Confirmed(2); n1 != 2 || n2 != 1 {
		t.Fatalf("after offset %d: Confirmed(1) = %d, Confirmed(2) = %d, want 2 and 1", a2+1, n1, n2)
	}
}

// Drop fails a long poll in flight; the update it missed comes to the
// next poll.
func TestDropFailsTheLongPoll(t *testing.T) {
	srv := telegramtest.New(t)
	b := bot(t, srv)
	failed := make(chan error, 1)
	go func() {
		_, err := b.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		failed <- err
	}()
	if err := srv.AwaitPoll(telegramtest.DefaultTimeout); err != nil {
		t.Fatal(err)
	}
	srv.Drop()
	select {
	case err := <-failed:
		if err == nil {
			t.Fatal("the long poll in flight succeeded after Drop")
		}
	case <-time.After(telegramtest.DefaultTimeout):
		t.Fatal("the long poll in flight did not end at Drop")
	}
	srv.Text(1, 1, "after")
	ups, err := b.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 1 || ups[0].Message.Text != "after" {
		t.Fatalf("the poll after Drop: %v %+v", err, ups)
	}
}
