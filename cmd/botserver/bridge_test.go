package main_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/irc/irctest"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// A bridge configured in YAML alone links a web page path, a Telegram
// group, a Slack channel and an IRC channel (a real ngircd): what is said
// in one appears once in each of the others, with its protocol and
// sender, and never comes back to where it was said.
func TestBridgeLinksProtocols(t *testing.T) {
	tg := telegramtest.New(t)
	sl := fakeslack.New(t, fakeslack.Options{})
	ircd := irctest.Start(t, "")
	alice := ircd.Dial(t, "alice", "#golang")
	const group = -100123456

	cfg := writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
telegram: {token: %q, endpoint: %q}
slack: {mode: socket, bot_token: %q, app_token: %q, api_url: %q}
irc: {server: %q, nick: bridgebot, channels: ["#golang"]}
bots:
  bridge:
    bridges:
      - name: golang
        channels: [irc:#golang, slack:C012345, telegram:%d, web:/bridge/golang/]
routes:
  websocket: {bot: bridge}
  telegram: {bot: bridge}
  slack: {bot: bridge}
  irc: {bot: bridge}
`, tg.Token(), tg.Endpoint(), fakeslack.BotToken, fakeslack.AppToken, sl.APIURL, ircd.Addr(), group))
	p := startBotserver(t, true, "-config", cfg)
	alice.FromBot("bridgebot", "JOIN")
	web := wsDial(t, p.addr, "/bridge/golang/")
	other := wsDial(t, p.addr, "/bridge/golang/")

	// A path in no bridge is refused.
	if _, res, err := gorilla.DefaultDialer.Dial("ws://"+p.addr+"/bridge/nowhere/", nil); err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("a path in no bridge: %v, want a 403", err)
	}

	ircSays := func() string {
		t.Helper()
		l := alice.FromBot("bridgebot", "PRIVMSG")
		if l.Params[0] != "#golang" {
			t.Fatalf("irc: said in %q", l.Params[0])
		}
		return l.Params[1]
	}
	slackSays := func(n int) string {
		t.Helper()
		c := sl.WaitCalls(t, "chat.postMessage", n)[n-1]
		if c.Channel() != "C012345" {
			t.Fatalf("slack: said in %q", c.Channel())
		}
		return c.Text()
	}
	telegramSaid := func(n int) []string {
		t.Helper()
		if err := tg.AwaitSent(n, 15*time.Second); err != nil {
			t.Fatal(err)
		}
		return tg.Texts(group)
	}

	// From the web page: the other web member, IRC, Slack and Telegram.
	if err := web.WriteMessage(gorilla.TextMessage, []byte("hello from the web")); err != nil {
		t.Fatal(err)
	}
	want := "[web] anonymous: hello from the web"
	if got := wsRead(t, other); got != want {
		t.Fatalf("the other web member: %q, want %q", got, want)
	}
	if got := ircSays(); got != want {
		t.Fatalf("irc: %q", got)
	}
	if got := slackSays(1); got != want {
		t.Fatalf("slack: %q", got)
	}
	if got := telegramSaid(1); !slices.Equal(got, []string{want}) {
		t.Fatalf("telegram: %q", got)
	}

	// From IRC.
	alice.Send("PRIVMSG #golang :hello from irc")
	want = "[irc] alice: hello from irc"
	for _, ws := range []*gorilla.Conn{web, other} {
		if got := wsRead(t, ws); got != want {
			t.Fatalf("web: %q, want %q", got, want)
		}
	}
	if got := slackSays(2); got != want {
		t.Fatalf("slack: %q", got)
	}
	if got := telegramSaid(2); got[1] != want {
		t.Fatalf("telegram: %q", got)
	}

	// From Slack.
	sl.PushEvent(sl.Message("C012345", "U1", "hello from slack"))
	want = "[slack] U1: hello from slack"
	if got := ircSays(); got != want {
		t.Fatalf("irc: %q", got)
	}
	for _, ws := range []*gorilla.Conn{web, other} {
		if got := wsRead(t, ws); got != want {
			t.Fatalf("web: %q, want %q", got, want)
		}
	}
	if got := telegramSaid(3); got[2] != want {
		t.Fatalf("telegram: %q", got)
	}

	// From Telegram.
	tg.Text(group, 7, "hello from telegram")
	if got := ircSays(); !strings.HasPrefix(got, "[telegram] ") || !strings.HasSuffix(got, ": hello from telegram") {
		t.Fatalf("irc: %q", got)
	}
	for _, ws := range []*gorilla.Conn{web, other} {
		if got := wsRead(t, ws); !strings.HasSuffix(got, ": hello from telegram") {
			t.Fatalf("web: %q", got)
		}
	}
	if got := slackSays(3); !strings.HasSuffix(got, ": hello from telegram") {
		t.Fatalf("slack: %q", got)
	}

	// Nothing came back to where it was said, and nothing twice: a last
	// message from the web page is the next thing everywhere.
	if err := other.WriteMessage(gorilla.TextMessage, []byte("last")); err != nil {
		t.Fatal(err)
	}
	want = "[web] anonymous: last"
	if got := wsRead(t, web); got != want {
		t.Fatalf("web: %q, want %q", got, want)
	}
	if got := ircSays(); got != want {
		t.Fatalf("irc: %q, want %q", got, want)
	}
	if got := slackSays(4); got != want {
		t.Fatalf("slack: %q, want %q", got, want)
	}
	if got := telegramSaid(4); len(got) != 4 || got[3] != want {
		t.Fatalf("telegram got %d messages: %q", len(got), got)
	}
	if n := len(sl.Calls("chat.postMessage")); n != 4 {
		t.Fatalf("slack got %d messages, want 4", n)
	}
}
