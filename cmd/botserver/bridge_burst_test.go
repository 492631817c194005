package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/irc/irctest"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// A burst of 100 messages from each protocol of a bridge keeps every
// platform's rate limits: Telegram's 20 messages a minute to a group and
// Slack's message a second to a channel (0 refusals at the fakes, which
// keep those limits), and IRC's flood control (the real ngircd never
// disconnects the bot). Lines that queue up behind a limit are said
// together, so Telegram and Slack get all 300 of the other protocols'
// lines within seconds; IRC, which has no multi-line messages, gets them
// one a second, as its flood control allows.
func TestBridgeBurstKeepsRateLimits(t *testing.T) {
	const burst = 100
	tg := telegramtest.New(t, telegramtest.WithFloodControl())
	sl := fakeslack.New(t, fakeslack.Options{PostLimit: &fakeslack.PostLimit{PerSecond: 1, Burst: 5}})
	ircd := irctest.Start(t, "")
	alice := ircd.Dial(t, "alice", "#golang")
	const group = -100123456

	cfg := writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
telegram: {token: %q, endpoint: %q}
slack: {mode: socket, bot_token: %q, app_token: %q, api_url: %q}
irc: {server: %q, nick: bridgebot, channels: ["#golang"], flood: {burst: 5, interval: 1s}}
layer: {capacity: 1000}
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
	sender := wsDial(t, p.addr, "/bridge/golang/")
	watcher := wsDial(t, p.addr, "/bridge/golang/")

	start := time.Now()
	for i := range burst {
		if err := sender.WriteMessage(gorilla.TextMessage, []byte(fmt.Sprintf("web %d", i))); err != nil {
			t.Fatal(err)
		}
		alice.Send(fmt.Sprintf("PRIVMSG #golang :irc %d", i))
		sl.PushEvent(sl.Message("C012345", "U1", fmt.Sprintf("slack %d", i)))
		tg.Text(group, 7, fmt.Sprintf("telegram %d", i))
	}

	// The web page: every line of the four protocols but the watcher's
	// own (it said none), each once.
	seen := map[string]int{}
	for range 4 * burst {
		seen[wsRead(t, watcher)]++
	}
	for line, n := range seen {
		if n != 1 {
			t.Errorf("the web page showed %q %d times", line, n)
		}
	}

	// Telegram and Slack: the other three protocols' 300 lines, in
	// merged messages, every line once, none of their own.
	lines := func(texts []string) map[string]int {
		got := map[string]int{}
		for _, text := range texts {
			for _, l := range strings.Split(text, "\n") {
				got[l]++
			}
		}
		return got
	}
	check := func(name, own string, got map[string]int) {
		t.Helper()
		for l, n := range got {
			if n != 1 || strings.HasPrefix(l, "["+own+"]") {
				t.Errorf("%s got %q %d times", name, l, n)
			}
		}
		if len(got) != 3*burst {
			t.Errorf("%s got %d distinct lines, want %d", name, len(got), 3*burst)
		}
	}
	slackLines := func() (map[string]int, int) {
		var texts []string
		for _, c := range sl.Calls("chat.postMessage") {
			if c.Err == "" && c.Channel() == "C012345" {
				texts = append(texts, c.Text())
			}
		}
		return lines(texts), len(texts)
	}
	slLines, posts := slackLines()
	for len(slLines) < 3*burst {
		sl.WaitCalls(t, "chat.postMessage", posts+1)
		slLines, posts = slackLines()
	}
	tgLines := lines(tg.Texts(group))
	for len(tgLines) < 3*burst {
		if err := tg.AwaitSent(len(tg.Texts(group))+1, 60*time.Second); err != nil {
			t.Fatalf("telegram: %d lines: %v", len(tgLines), err)
		}
		tgLines = lines(tg.Texts(group))
	}
	check("telegram", "telegram", tgLines)
	check("slack", "slack", slLines)
	if n := tg.Floods(); n != 0 {
		t.Errorf("Telegram answered %d messages 429: over its limits", n)
	}
	if n := sl.RateLimited(); n != 0 {
		t.Errorf("Slack answered %d posts 429: over its limit", n)
	}

	// IRC: lines at the flood control's pace, and the bot still there.
	window := 10 * time.Second
	var irc int
	for until := time.Now().Add(window); time.Now().Before(until); {
		l := alice.Expect("PRIVMSG", "QUIT", "ERROR")
		if l.Command != "PRIVMSG" && strings.EqualFold(l.Nick(), "bridgebot") {
			t.Fatalf("the bot left IRC: %s", l.Raw)
		}
		if strings.EqualFold(l.Nick(), "bridgebot") {
			irc++
		}
	}
	elapsed := time.Since(start)
	t.Logf("web page: %d lines; Telegram: %d lines in %d messages; Slack: %d lines in %d posts; IRC: %d lines in %s",
		4*burst, len(tgLines), len(tg.Texts(group)), len(slLines), len(sl.Calls("chat.postMessage")), irc, elapsed.Round(time.Second))
	if limit := 5 + int(elapsed/time.Second) + 1; irc > limit {
		t.Errorf("IRC got %d lines in %s, over its flood control's %d", irc, elapsed, limit)
	}
	if irc == 0 {
		t.Error("IRC got nothing")
	}
}
