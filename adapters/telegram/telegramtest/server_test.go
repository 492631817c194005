package telegramtest_test

import (
	"errors"
	"net/http"
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
