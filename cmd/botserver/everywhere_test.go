package main_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/irc/irctest"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// One echo bot, routed from one config file, answers on the web page,
// Telegram, Slack, the console and IRC (a real ngircd), with no code of
// any protocol's own: every chat protocol speaks one chat vocabulary.
func TestOneBotEveryProtocol(t *testing.T) {
	tg := telegramtest.New(t)
	sl := fakeslack.New(t, fakeslack.Options{})
	ircd := irctest.Start(t, "")
	alice := ircd.Dial(t, "alice", "#room")

	cfg := writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /ws/}
telegram: {token: %q, endpoint: %q}
slack: {mode: socket, bot_token: %q, app_token: %q, api_url: %q}
console: {}
irc: {server: %q, nick: echobot, channels: ["#room"]}
routes:
  websocket: {bot: echo}
  telegram: {bot: echo}
  slack: {bot: echo}
  console: {bot: echo}
  irc: {bot: echo}
`, tg.Token(), tg.Endpoint(), fakeslack.BotToken, fakeslack.AppToken, sl.APIURL, ircd.Addr()))
	p := startBotserver(t, true, "-config", cfg)

	// The web page, and the socket it opens.
	res, err := http.Get("http://" + p.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "/ws/") {
		t.Fatalf("GET /: %d, page without its socket path:\n%.300s", res.StatusCode, page)
	}
	ws := wsDial(t, p.addr, "/ws/")
	if err := ws.WriteMessage(gorilla.TextMessage, []byte("hi web")); err != nil {
		t.Fatal(err)
	}
	if got := wsRead(t, ws); got != "You said: hi web" {
		t.Fatalf("web page: %q", got)
	}

	// Telegram.
	tg.Text(777, 7, "hi telegram")
	if err := tg.AwaitSent(1, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := tg.Texts(777); len(got) != 1 || got[0] != "You said: hi telegram" {
		t.Fatalf("telegram: %q", got)
	}

	// Slack, over Socket Mode.
	sl.PushEvent(sl.Message("C1", "U1", "hi slack"))
	if got := sl.WaitCalls(t, "chat.postMessage", 1); got[0].Text() != "You said: hi slack" || got[0].Channel() != "C1" {
		t.Fatalf("slack: %q in %q", got[0].Text(), got[0].Channel())
	}

	// The console.
	if _, err := io.WriteString(p.stdin, "hi console\n"); err != nil {
		t.Fatal(err)
	}
	p.expectLine(t, "[console] You said: hi console")

	// IRC, once the bot has joined the channel.
	alice.FromBot("echobot", "JOIN")
	alice.Send("PRIVMSG #room :hi irc")
	if l := alice.FromBot("echobot", "PRIVMSG"); l.Params[0] != "#room" || l.Params[1] != "You said: hi irc" {
		t.Fatalf("irc: %q", l.Raw)
	}
}
