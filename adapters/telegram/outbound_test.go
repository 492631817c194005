package telegram_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/event"
)

// Every outbound event becomes its Bot API call, sent without a scope.
func TestPushEveryKind(t *testing.T) {
	srv := telegramtest.New(t)
	cfg := testConfig(srv)
	cfg.UploadDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg.UploadDir, "report.txt"), []byte("report body"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := newAdapter(t, cfg)
	ctx := context.Background()
	push := func(ev event.Event) {
		t.Helper()
		if err := a.Push(ctx, ev); err != nil {
			t.Fatalf("push %s: %v", ev.Type(), err)
		}
	}
	push(telegram.Send{ChatID: 9, ThreadID: 4, Text: "*hi*", ParseMode: "MarkdownV2", ReplyTo: 3, Silent: true,
		Keyboard: telegram.Keyboard{{{Text: "Yes", Data: "y"}, {Text: "Docs", URL: "https://example.org"}}}})
	push(telegram.Edit{ChatID: 9, MessageID: 3, Text: "edited"})
	push(telegram.AnswerCallback{CallbackQueryID: "q1", Text: "done"})
	push(telegram.ChatAction{ChatID: 9, Action: "typing"})
	push(telegram.SendPhoto{ChatID: 9, Photo: telegram.InputFile{Bytes: []byte("PNG"), Name: "p.png"}, Caption: "pic"})
	push(telegram.SendDocument{ChatID: 9, Document: telegram.InputFile{FileID: "FILE123"}})
	push(telegram.SendDocument{ChatID: 9, Document: telegram.InputFile{Path: "report.txt"}})
	// As it arrives from a channel layer in another process.
	push(event.Message{"type": "telegram.send", "chat_id": int64(9), "text": "from the layer"})

	send := srv.Calls("sendMessage")[0].Params
	for k, want := range map[string]string{"chat_id": "9", "message_thread_id": "4", "text": "*hi*",
		"parse_mode": "MarkdownV2", "reply_to_message_id": "3", "disable_notification": "true"} {
		if got := send.Get(k); got != want {
			t.Errorf("sendMessage %s = %q, want %q", k, got, want)
		}
	}
	if rm := send.Get("reply_markup"); !strings.Contains(rm, `"callback_data":"y"`) || !strings.Contains(rm, `"url":"https://example.org"`) {
		t.Errorf("reply_markup %s", rm)
	}
	if p := srv.Calls("editMessageText")[0].Params; p.Get("message_id") != "3" || p.Get("text") != "edited" {
		t.Errorf("editMessageText %v", p)
	}
	if p := srv.Calls("answerCallbackQuery")[0].Params; p.Get("callback_query_id") != "q1" || p.Get("text") != "done" {
		t.Errorf("answerCallbackQuery %v", p)
	}
	if p := srv.Calls("sendChatAction")[0].Params; p.Get("action") != "typing" {
		t.Errorf("sendChatAction %v", p)
	}
	photo := srv.Calls("sendPhoto")[0]
	if f := photo.Files["photo"]; string(f.Data) != "PNG" || f.Name != "p.png" || photo.Params.Get("caption") != "pic" {
		t.Errorf("sendPhoto %+v", photo)
	}
	docs := srv.Calls("sendDocument")
	if docs[0].Params.Get("document") != "FILE123" || len(docs[0].Files) != 0 {
		t.Errorf("sendDocument by id %+v", docs[0])
	}
	if f := docs[1].Files["document"]; string(f.Data) != "report body" || f.Name != "report.txt" {
		t.Errorf("sendDocument by path %+v", docs[1])
	}
	if got := srv.Texts(9); len(got) != 2 || got[1] != "from the layer" {
		t.Errorf("texts %q", got)
	}

	for _, bad := range []struct {
		ev   event.Event
		want error
	}{
		{telegram.Send{Text: "nowhere"}, telegram.ErrNoChat},
		{telegram.SendDocument{ChatID: 9, Document: telegram.InputFile{Path: "../../etc/passwd"}}, telegram.ErrBadFile},
		{telegram.SendDocument{ChatID: 9, Document: telegram.InputFile{Path: "/etc/passwd"}}, telegram.ErrBadFile},
		{telegram.SendPhoto{ChatID: 9, Photo: telegram.InputFile{FileID: "a", URL: "https://x"}}, telegram.ErrBadFile},
		{telegram.Disconnect{}, telegram.ErrUnsupportedEvent},
	} {
		if err := a.Push(ctx, bad.ev); !errors.Is(err, bad.want) {
			t.Errorf("push %+v: %v, want %v", bad.ev, err, bad.want)
		}
	}
}

// Telegram's refusals come back to Push as typed errors; 5xx is retried;
// the token never shows in an error, even one with the request URL.
func TestPushErrors(t *testing.T) {
	srv := telegramtest.New(t)
	cfg := testConfig(srv)
	cfg.Retry.MaxAttempts = 3
	a, logs := newAdapter(t, cfg)
	ctx := context.Background()
	srv.Block(5)
	err := a.Push(ctx, telegram.Send{ChatID: 5, Text: "x"})
	var ae *telegram.APIError
	if !errors.Is(err, telegram.ErrForbidden) || !errors.As(err, &ae) || ae.Code != 403 {
		t.Fatalf("push to a blocked chat: %v", err)
	}
	srv.Fail("sendMessage", 2, telegramtest.ServerError())
	if err := a.Push(ctx, telegram.Send{ChatID: 6, Text: "after two 500s"}); err != nil {
		t.Fatalf("push after two 500s: %v", err)
	}
	srv.Fail("sendMessage", 3, telegramtest.BadGateway())
	if err := a.Push(ctx, telegram.Send{ChatID: 6, Text: "never"}); !errors.As(err, &ae) || ae.Code != 502 {
		t.Fatalf("push after max_attempts 502s: %v", err)
	}
	if got := srv.Texts(6); len(got) != 1 {
		t.Fatalf("chat 6 got %q", got)
	}

	cfg.Endpoint = "http://127.0.0.1:1/bot%s/%s" // nothing listens there
	cfg.Retry.MaxAttempts = 1
	down, _ := newAdapter(t, cfg)
	err = down.Push(ctx, telegram.Send{ChatID: 6, Text: "x"})
	var ne *telegram.NetError
	if !errors.As(err, &ne) || strings.Contains(err.Error(), srv.Token()) || !strings.Contains(err.Error(), "<token>") {
		t.Fatalf("network error %v: want a NetError with the token scrubbed", err)
	}
	noToken(t, srv, logs.String())
}

// With error_events on, a reply Telegram refuses (bot blocked, chat not
// found) also reaches the instance that sent it as a telegram.error
// event, and is logged.
func TestRefusedReplyBecomesErrorEventWhenAsked(t *testing.T) {
	srv := telegramtest.New(t)
	srv.Block(66)
	srv.ForgetChat(67)
	rec := newRecorder()
	rec.reply = true
	cfg := testConfig(srv)
	cfg.ErrorEvents = true
	a, logs := newAdapter(t, cfg)
	start(t, a, rec)
	srv.Text(66, 66, "hello")
	srv.Text(67, 67, "hello too")
	var got []telegram.Error
	rec.await(t, "two error events", func() bool {
		got = got[:0]
		for _, ev := range rec.events {
			if e, ok := ev.(telegram.Error); ok {
				got = append(got, e)
			}
		}
		return len(got) == 2
	})
	want := map[int64]telegram.Error{
		66: {Event: "telegram.send", Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user", ChatID: 66},
		67: {Event: "telegram.send", Method: "sendMessage", Code: 400, Description: "Bad Request: chat not found", ChatID: 67},
	}
	for _, e := range got {
		if e != want[e.ChatID] {
			t.Errorf("error event %+v, want %+v", e, want[e.ChatID])
		}
	}
	if !strings.Contains(logs.String(), "call refused") {
		t.Errorf("refusal not logged:\n%s", logs)
	}
	noToken(t, srv, logs.String())
}
