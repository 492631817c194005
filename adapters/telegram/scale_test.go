package telegram_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/scope"
)

// 10,000 chats at once: one live scope each, every reply delivered and
// each chat's replies in order.
func TestTenThousandChats(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 chats")
	}
	const chats, per = 10_000, 3
	srv := telegramtest.New(t)
	a, _ := newAdapter(t, testConfig(srv))
	var made atomicCounter
	app := scope.ApplicationFunc(func(ctx scopeCtx, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		made.add()
		return echo.New().NewInstance(ctx, s, conn)
	})
	start(t, a, app, adapters.WithScopes(scope.Config{IdleTimeout: -1}))
	for k := range per {
		for c := range chats {
			srv.Text(int64(1_000_000+c), int64(1_000_000+c), fmt.Sprintf("%d", k))
		}
	}
	if _, err := srv.AwaitCalls("sendMessage", chats*per, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := made.load(); n != chats {
		t.Fatalf("%d instances for %d chats; each chat's scope should live through all its messages", n, chats)
	}
	next := map[int64]int{}
	for _, c := range srv.Calls("sendMessage") {
		if c.Status != http.StatusOK {
			t.Fatalf("call %+v", c)
		}
		chat := c.ChatID()
		if want := fmt.Sprintf("You said: %d", next[chat]); c.Params.Get("text") != want {
			t.Fatalf("chat %d: %q, want %q", chat, c.Params.Get("text"), want)
		}
		next[chat]++
	}
	if len(next) != chats {
		t.Fatalf("replies went to %d chats, want %d", len(next), chats)
	}
}
