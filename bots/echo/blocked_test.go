package echo_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/scope"
)

// A user who blocked the bot: Telegram answers the echo bot's reply with
// 403, the reply's error is typed, the conversation goes on with the same
// instance, and the other chats are answered.
func TestEchoGoesOnWhenTheUserBlockedTheBot(t *testing.T) {
	srv := telegramtest.New(t)
	var logs logtest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := telegram.New(telegram.Config{
		Name:     "telegram",
		Token:    telegram.Secret(srv.Token()),
		Endpoint: srv.Endpoint(),
		Polling:  telegram.Polling{Timeout: time.Second},
		Limits:   telegram.Limits{Global: -1, Chat: -1, Group: -1},
	}, telegram.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	instances := map[string]int{}
	bot := consumer.WithLogger(log)(echo.New())
	app := scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		mu.Lock()
		instances[s.Key]++
		mu.Unlock()
		return bot.NewInstance(ctx, s, conn)
	})
	h := adapters.NewHost(a, adapters.WithLogger(log))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	}()

	const blocked, other = 1, 2
	srv.Block(blocked)
	srv.Text(blocked, blocked, "are you there?")
	srv.Text(other, other, "hello")
	// Only the other chat's answer succeeds; the refused one is logged.
	if _, err := srv.AwaitCalls("sendMessage", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	logs.Await(t, "blocked by the user", 10*time.Second)
	if got := srv.Texts(other); len(got) != 1 || got[0] != "You said: hello" {
		t.Fatalf("the other chat got %q", got)
	}
	srv.Unblock(blocked)
	srv.Text(blocked, blocked, "back again")
	if _, err := srv.AwaitCalls("sendMessage", 2, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := srv.Texts(blocked); len(got) != 1 || got[0] != "You said: back again" {
		t.Fatalf("the chat that blocked and unblocked the bot got %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for key, n := range instances {
		if n != 1 {
			t.Errorf("conversation %s had %d instances: the refusal ended it", key, n)
		}
	}
	l := logs.String()
	if !strings.Contains(l, "refused a send") || !strings.Contains(l, "blocked by the user") {
		t.Errorf("the refusal is not logged with its cause:\n%s", l)
	}
	if strings.Contains(l, "scope failed") {
		t.Errorf("a refusal failed the scope:\n%s", l)
	}
}
