package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
)

// Two botservers on one Redis serve one room: a web client on A and a
// Telegram chat polled by B talk both ways; B is killed with SIGKILL,
// Telegram polling moves to A, and after B restarts the room still works
// across both processes.
func TestRoomAcrossTwoProcessesSurvivesAKill(t *testing.T) {
	tg := telegramtest.New(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cfg := writeConfig(t, fmt.Sprintf(`
layer: {backend: redis, redis: {url: %q, prefix: sbroom%s}}
websocket: {addr: "127.0.0.1:0"}
telegram:
  token: %q
  endpoint: %q
  polling: {timeout: 1s, lease_ttl: 1s}
routes:
  websocket: {bot: room}
  telegram: {bot: room}
`, redistest.URL(t), hex.EncodeToString(b), tg.Token(), tg.Endpoint()))
	const chat, user = int64(5150), int64(51)

	procB := startBotserver(t, true, "-config", cfg)
	awaitPolling(t, tg)
	procA := startBotserver(t, true, "-config", cfg)

	web := wsDial(t, procA.addr, "/room/")
	if got := wsRead(t, web); !strings.HasPrefix(got, "Welcome to room lobby") {
		t.Fatalf("welcome %q", got)
	}

	// Telegram → web, then web → Telegram.
	id := tg.Text(chat, user, "hello from telegram")
	expectRelayed(t, web, "[telegram]", "hello from telegram")
	say(t, web, "hi telegram")
	awaitTelegramText(t, tg, chat, "[web] Anonymous: hi telegram")
	// B confirms the update with its next poll; only then is it safe from
	// being handled again by the next poller.
	if err := tg.AwaitConfirmed(id, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	if err := procB.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procB.cmd.Wait()

	// A takes over polling; what is sent meanwhile waits at Telegram.
	tg.Text(chat, user, "anyone still here?")
	expectRelayed(t, web, "[telegram]", "anyone still here?")
	say(t, web, "A is here")
	awaitTelegramText(t, tg, chat, "[web] Anonymous: A is here")

	// B comes back; a web client on B and one on A share the room.
	procB2 := startBotserver(t, true, "-config", cfg)
	webB := wsDial(t, procB2.addr, "/room/")
	wsRead(t, webB) // the welcome
	say(t, webB, "/name Bea")
	if got := wsRead(t, webB); got != "You are now Bea." {
		t.Fatalf("rename %q", got)
	}
	say(t, webB, "back on B")
	expectRelayed(t, web, "[web] Bea:", "back on B")
	awaitTelegramText(t, tg, chat, "[web] Bea: back on B")
	say(t, web, "welcome back")
	expectRelayed(t, webB, "[web] Anonymous:", "welcome back")

	// Nothing was handled twice: each Telegram line reached the web once.
	web.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, extra, err := web.ReadMessage(); err == nil {
		t.Fatalf("unexpected extra message %q", extra)
	}
	if n := tg.Conflicts(); n != 0 {
		t.Fatalf("Telegram saw %d conflicting pollers", n)
	}
}

func awaitPolling(t *testing.T, tg *telegramtest.Server) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(tg.Calls("getUpdates")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nobody polls Telegram")
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

func say(t *testing.T, c *gorilla.Conn, text string) {
	t.Helper()
	if err := c.WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
		t.Fatal(err)
	}
}

// expectRelayed reads the next message and checks its prefix and text.
func expectRelayed(t *testing.T, c *gorilla.Conn, prefix, text string) {
	t.Helper()
	got := wsRead(t, c)
	if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, ": "+text) {
		t.Fatalf("got %q, want %q ... %q", got, prefix, text)
	}
}

func awaitTelegramText(t *testing.T, tg *telegramtest.Server, chat int64, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !slices.Contains(tg.Texts(chat), want) {
		if time.Now().After(deadline) {
			t.Fatalf("Telegram chat never got %q; it has %q", want, tg.Texts(chat))
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}
