package djangochat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/djangochat"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/router"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// telegramChat serves the bot to a fake Telegram on l until the test ends.
func telegramChat(t *testing.T, l consumer.Layer) (*telegramtest.Server, *logtest.Buffer) {
	t.Helper()
	srv := telegramtest.New(t)
	logs := new(logtest.Buffer)
	a, err := telegram.New(telegram.Config{
		Name:     "telegram",
		Token:    telegram.Secret(srv.Token()),
		Endpoint: srv.Endpoint(),
		Polling:  telegram.Polling{Timeout: time.Second},
		Limits:   telegram.Limits{Global: -1, Chat: -1, Group: -1},
	}, telegram.WithLogger(logs.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	app := router.Chain(consumer.WithLogger(logs.Logger()), consumer.WithLayer(l))(djangochat.New())
	h := adapters.NewHost(a, adapters.WithLogger(logs.Logger()))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
		if t.Failed() {
			t.Logf("the bot's log:\n%s", logs)
		}
	})
	return srv, logs
}

// said sends text from user 1 in its private chat and returns the chat's
// next message from the bot.
func said(t *testing.T, srv *telegramtest.Server, text string) string {
	t.Helper()
	n := len(srv.Texts(chat))
	srv.Text(chat, chat, text)
	return awaitText(t, srv, n)
}

// awaitText returns the chat's message after the first n.
func awaitText(t *testing.T, srv *telegramtest.Server, n int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		calls := len(srv.Calls("sendMessage"))
		if texts := srv.Texts(chat); len(texts) > n {
			return texts[n]
		}
		if _, err := srv.AwaitCalls("sendMessage", calls+1, time.Until(deadline)); err != nil {
			t.Fatalf("the chat got nothing after %q: %v", srv.Texts(chat), err)
		}
	}
}

const chat = 1 // a private chat with user1

// The bot on the memory layer, with a Go stand-in for the Django side: a
// chat joins a room, talks in it, hears it, and leaves it.
func TestChatJoinsARoomAndTalksBothWays(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const django = "django.member"
	if err := l.GroupAdd(ctx, djangochat.Group("lobby"), django); err != nil {
		t.Fatal(err)
	}
	srv, _ := telegramChat(t, l)

	if got := said(t, srv, "hello?"); got != djangochat.Help {
		t.Fatalf("outside a room: %q", got)
	}
	if got := said(t, srv, "/join no-such room"); got != "A room name is 1 to 90 letters, digits or underscores: /join lobby" {
		t.Fatalf("bad room: %q", got)
	}
	if got := said(t, srv, "/join@SwitchboardBot lobby"); got != "You are in room lobby: what you write here goes to it. /leave leaves it." {
		t.Fatalf("join: %q", got)
	}

	srv.Text(chat, chat, "hello from telegram")
	ev, err := l.Receive(ctx, django)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := event.Decode[djangochat.Message](ev); err != nil || m.Message != "user1: hello from telegram" {
		t.Fatalf("the room got %#v (%v)", ev, err)
	}

	// As Django sends it: a generic message with "message" only.
	n := len(srv.Texts(chat))
	if err := l.GroupSend(ctx, djangochat.Group("lobby"), event.Message{"type": "chat.message", "message": "hello from django"}); err != nil {
		t.Fatal(err)
	}
	if got := awaitText(t, srv, n); got != "hello from django" {
		t.Fatalf("the chat got %q", got)
	}

	if got := said(t, srv, "!leave"); got != "You left room lobby." {
		t.Fatalf("leave: %q", got)
	}
	if err := l.GroupSend(ctx, djangochat.Group("lobby"), event.Message{"type": "chat.message", "message": "after leaving"}); err != nil {
		t.Fatal(err)
	}
	if got := said(t, srv, "/leave"); got != "You are in no room. "+djangochat.Help {
		t.Fatalf("leave twice: %q", got)
	}
	if texts := srv.Texts(chat); slices.Contains(texts, "after leaving") || slices.Contains(texts, "user1: hello from telegram") {
		t.Errorf("the chat heard the room after leaving it, or itself: %q", texts)
	}
}
