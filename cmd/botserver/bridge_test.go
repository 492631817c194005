package main_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/adapters/irc/irctest"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/adapters/xmpp/xmpptest"
)

// The channels of the bridge of these tests, one per protocol.
const (
	tgGroup     = -100123456
	slackChan   = "C012345"
	ircChan     = "#golang"
	xmppRoom    = "golang"
	discordChan = "300000000000000001"
	discordGld  = "400000000000000001"
	matrixRoom  = "!golang:example.org"
	webPath     = "/bridge/golang/"
)

// bridged is a botserver running the bridge bot over seven protocols:
// the web page, Telegram, Slack, Discord and Matrix (fakes), IRC (a real
// ngircd) and XMPP (a real prosody), with a user of each.
type bridged struct {
	p     *proc
	tg    *telegramtest.Server
	sl    *fakeslack.Server
	dc    *discordtest.Server
	mx    *matrixtest.Server
	alice *irctest.Client  // on IRC
	ann   *xmpptest.Client // on XMPP
}

// startBridge starts the bridge, with inboxes that hold a whole burst of
// TestBridgeBurstKeepsRateLimits (seven protocols' 100 lines): a member
// whose inbox and backlog are full drops the next line, which a web member
// writing a burst out on a busy machine may well meet with the default
// sizes, and the tests check that every line arrives.
func startBridge(t *testing.T, limits bool) *bridged {
	t.Helper()
	var b bridged
	var slOpts fakeslack.Options
	var tgOpts []telegramtest.Option
	var dcOpts []discordtest.Option
	if limits {
		slOpts.PostLimit = &fakeslack.PostLimit{PerSecond: 1, Burst: 5}
		tgOpts = append(tgOpts, telegramtest.WithFloodControl())
		dcOpts = append(dcOpts, discordtest.WithLimits(discordtest.Limits{Route: 5, Window: time.Second, Global: 50}))
	}
	b.tg = telegramtest.New(t, tgOpts...)
	b.sl = fakeslack.New(t, slOpts)
	b.dc = discordtest.New(t, dcOpts...)
	b.mx = matrixtest.New(t)
	b.mx.Joined(matrixRoom)
	if limits {
		b.mx.SetRateLimit(matrixtest.RateLimit{Burst: 5, Per: 200 * time.Millisecond, RetryAfter: 200 * time.Millisecond})
	}
	ircd := irctest.Start(t, "")
	b.alice = ircd.Dial(t, "alice", ircChan)
	xs := xmpptest.Start(t)
	botJID := xs.Register("bridgebot", "bot-secret")
	xs.Register("ann", "ann-secret")
	b.ann = xs.Dial(t, "ann")
	b.ann.Join(xmppRoom, "ann")

	cfg := writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
telegram: {token: %q, endpoint: %q}
slack: {mode: socket, bot_token: %q, app_token: %q, api_url: %q}
irc: {server: %q, nick: bridgebot, channels: [%q], flood: {burst: 5, interval: 1s}}
xmpp: {jid: %q, password: bot-secret, server: %q, ca_file: %q, rooms: ["%s@%s"], nick: bridgebot}
discord: {token: %q, api_url: %q, intents: [guilds, guild_messages, message_content]}
matrix: {homeserver: %q, access_token: %q, store: %q}
layer: {capacity: 1000}
scopes: {inbox_size: 1024}
bots:
  bridge:
    bridges:
      - name: golang
        channels: ["irc:%s", "slack:%s", "telegram:%d", "web:%s", "xmpp:%s@%s", "discord:%s", "matrix:%s"]
routes:
  websocket: {bot: bridge}
  telegram: {bot: bridge}
  slack: {bot: bridge}
  irc: {bot: bridge}
  xmpp: {bot: bridge}
  discord: {bot: bridge}
  matrix: {bot: bridge}
`, b.tg.Token(), b.tg.Endpoint(), fakeslack.BotToken, fakeslack.AppToken, b.sl.APIURL, ircd.Addr(), ircChan,
		botJID+"/sb", xs.Addr(), xs.CAFile(), xmppRoom, xmpptest.MUC,
		b.dc.Token(), b.dc.APIURL(), b.mx.URL(), b.mx.Token(), filepath.Join(t.TempDir(), "matrix.json"),
		ircChan, slackChan, tgGroup, webPath, xmppRoom, xmpptest.MUC, discordChan, matrixRoom))
	b.p = startBotserver(t, true, "-config", cfg)
	b.alice.FromBot("bridgebot", "JOIN")
	b.ann.Presence("", xmppRoom+"@"+xmpptest.MUC+"/bridgebot")
	return &b
}

// said collects what reached each protocol's channel, as lines: merged
// messages are split back into their lines.
func (b *bridged) said(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(proto, text string) {
		out[proto] = append(out[proto], strings.Split(text, "\n")...)
	}
	for _, text := range b.tg.Texts(tgGroup) {
		add("telegram", text)
	}
	for _, c := range b.sl.Calls("chat.postMessage") {
		if c.Err == "" && c.Channel() == slackChan {
			add("slack", c.Text())
		}
	}
	for _, p := range b.dc.Posted() {
		if p.ChannelID == discordChan {
			add("discord", p.Content)
		}
	}
	for _, s := range b.mx.Sent() {
		if s.Room == matrixRoom {
			add("matrix", s.Body())
		}
	}
	return out
}

// One message from each of seven protocols reaches the six others exactly
// once, with its protocol and sender, and never comes back to its own:
// the web page, Telegram, Slack, Discord and Matrix (fakes), IRC (a real
// ngircd) and XMPP (a real prosody).
func TestBridgeLinksSevenProtocols(t *testing.T) {
	b := startBridge(t, false)
	web := wsDial(t, b.p.addr, webPath)
	other := wsDial(t, b.p.addr, webPath)

	// A path in no bridge is refused.
	if _, res, err := gorilla.DefaultDialer.Dial("ws://"+b.p.addr+"/bridge/nowhere/", nil); err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("a path in no bridge: %v, want a 403", err)
	}

	if err := web.WriteMessage(gorilla.TextMessage, []byte("hello from web")); err != nil {
		t.Fatal(err)
	}
	b.tg.Text(tgGroup, 7, "hello from telegram")
	b.sl.PushEvent(b.sl.Message(slackChan, "U1", "hello from slack"))
	b.alice.Send("PRIVMSG " + ircChan + " :hello from irc")
	b.ann.SayRoom(xmppRoom, "hello from xmpp")
	b.dc.Say(discordtest.Message{ChannelID: discordChan, GuildID: discordGld, Content: "hello from discord"})
	b.mx.Say(matrixRoom, "@ann:example.org", "hello from matrix")

	protos := []string{"web", "telegram", "slack", "irc", "xmpp", "discord", "matrix"}
	// want is what each channel must show: a line from every other
	// protocol, each once.
	want := func(own string) map[string]bool {
		w := map[string]bool{}
		for _, p := range protos {
			if p != own {
				w[p] = true
			}
		}
		return w
	}
	check := func(own string, lines []string) {
		t.Helper()
		w := want(own)
		for _, l := range lines {
			from, _, _ := strings.Cut(strings.TrimPrefix(l, "["), "]")
			if !w[from] || !strings.HasSuffix(l, ": hello from "+from) {
				t.Errorf("%s shows %q: an echo, a repeat or a stranger", own, l)
			}
			delete(w, from)
		}
		if len(w) > 0 {
			t.Errorf("%s lacks the messages of %v; it shows %q", own, w, lines)
		}
	}

	// The stream protocols: IRC and XMPP users, and the other web member.
	var ircLines, xmppLines, webLines []string
	for range 6 {
		ircLines = append(ircLines, b.alice.FromBot("bridgebot", "PRIVMSG").Params[1])
	}
	// Pushes that queued up behind one another are said as one message of
	// several lines where the platform has them.
	for len(xmppLines) < 6 {
		xmppLines = append(xmppLines, strings.Split(b.ann.From(xmppRoom+"@"+xmpptest.MUC+"/bridgebot").Body, "\n")...)
	}
	for range 6 {
		webLines = append(webLines, wsRead(t, other))
	}
	// The web member who spoke hears the six others, not itself.
	var ownWeb []string
	for range 6 {
		ownWeb = append(ownWeb, wsRead(t, web))
	}

	// The request-response fakes: wait until each has six lines.
	deadline := time.Now().Add(30 * time.Second)
	var said map[string][]string
	for {
		said = b.said(t)
		done := true
		for _, p := range []string{"telegram", "slack", "discord", "matrix"} {
			done = done && len(said[p]) >= 6
		}
		if done || time.Now().After(deadline) {
			break
		}
		awaitAny(b)
	}
	check("irc", ircLines)
	check("xmpp", xmppLines)
	for _, p := range []string{"telegram", "slack", "discord", "matrix"} {
		check(p, said[p])
	}
	// The other web member hears the six others and the first member;
	// the first hears the six others.
	check("web", ownWeb)
	sawWeb := 0
	for _, l := range webLines {
		if strings.HasPrefix(l, "[web]") {
			sawWeb++
		}
	}
	if sawWeb != 1 {
		t.Errorf("the other web member heard the first %d times: %q", sawWeb, webLines)
	}
	t.Logf("every protocol's message reached the six others once: irc %d, xmpp %d, web %d, telegram %d, slack %d, discord %d, matrix %d lines",
		len(ircLines), len(xmppLines), len(ownWeb), len(said["telegram"]), len(said["slack"]), len(said["discord"]), len(said["matrix"]))
}

// awaitAny waits a moment for one of the fakes to record a call.
func awaitAny(b *bridged) {
	done := make(chan struct{})
	defer close(done)
	wake := make(chan struct{}, 4)
	for _, f := range []func(){
		func() { _ = b.tg.AwaitSent(b.tg.SentCount()+1, time.Second) },
		func() { _, _ = b.mx.AwaitSent(len(b.mx.Sent())+1, time.Second) },
	} {
		go func() { f(); wake <- struct{}{} }()
	}
	select {
	case <-wake:
	case <-time.After(time.Second):
	}
}
