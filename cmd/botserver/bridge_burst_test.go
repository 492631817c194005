package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/adapters/xmpp/xmpptest"
)

// A burst of 100 messages from each of seven protocols keeps every
// platform's rate limits: Telegram's 20 messages a minute to a group,
// Slack's message a second to a channel, Discord's 5 a second per channel
// and 50 a second in all, the homeserver's limit (0 refusals and 0
// violations at the fakes, which keep those limits), and IRC's flood
// control (the real ngircd never disconnects the bot). Lines that queue
// up behind a limit are said together, so the other protocols get all
// 600 lines of the six others within seconds; IRC, which has no
// multi-line messages, gets them one a second, as its flood control
// allows.
func TestBridgeBurstKeepsRateLimits(t *testing.T) {
	const burst = 100
	b := startBridge(t, true)
	sender := wsDial(t, b.p.addr, webPath)
	watcher := wsDial(t, b.p.addr, webPath)

	start := time.Now()
	for i := range burst {
		if err := sender.WriteMessage(gorilla.TextMessage, []byte(fmt.Sprintf("web %d", i))); err != nil {
			t.Fatal(err)
		}
		b.alice.Send(fmt.Sprintf("PRIVMSG %s :irc %d", ircChan, i))
		b.ann.SayRoom(xmppRoom, fmt.Sprintf("xmpp %d", i))
		b.sl.PushEvent(b.sl.Message(slackChan, "U1", fmt.Sprintf("slack %d", i)))
		b.tg.Text(tgGroup, 7, fmt.Sprintf("telegram %d", i))
		b.dc.Say(discordtest.Message{ChannelID: discordChan, GuildID: discordGld, Content: fmt.Sprintf("discord %d", i)})
		b.mx.Say(matrixRoom, "@ann:example.org", fmt.Sprintf("matrix %d", i))
	}

	// check: every line of the other protocols, once, none of own.
	check := func(own string, lines []string, want int) {
		t.Helper()
		seen := map[string]int{}
		for _, l := range lines {
			seen[l]++
			if n := seen[l]; n > 1 || strings.HasPrefix(l, "["+own+"]") {
				t.Errorf("%s shows %q %d times", own, l, n)
			}
		}
		if len(seen) != want {
			t.Errorf("%s shows %d distinct lines, want %d", own, len(seen), want)
		}
	}

	// The web page: every line of the seven protocols (the sender is
	// another member), each once.
	var web []string
	for range 7 * burst {
		web = append(web, wsRead(t, watcher))
	}
	check("none", web, 7*burst)

	// XMPP: the six others' 600 lines, in merged messages.
	var xmpp []string
	for len(xmpp) < 6*burst {
		xmpp = append(xmpp, strings.Split(b.ann.From(xmppRoom+"@"+xmpptest.MUC+"/bridgebot").Body, "\n")...)
	}
	check("xmpp", xmpp, 6*burst)

	// The request-response fakes: wait until each has its 600 lines.
	deadline := time.Now().Add(90 * time.Second)
	var said map[string][]string
	for {
		said = b.said(t)
		done := true
		for _, p := range []string{"telegram", "slack", "discord", "matrix"} {
			done = done && len(said[p]) >= 6*burst
		}
		if done || time.Now().After(deadline) {
			break
		}
		awaitAny(b)
	}
	for _, p := range []string{"telegram", "slack", "discord", "matrix"} {
		check(p, said[p], 6*burst)
	}
	if n := b.tg.Floods(); n != 0 {
		t.Errorf("Telegram answered %d messages 429: over its limits", n)
	}
	if n := b.sl.RateLimited(); n != 0 {
		t.Errorf("Slack answered %d posts 429: over its limit", n)
	}
	if v := b.dc.Violations(); len(v) != 0 {
		t.Errorf("Discord saw %d calls over its limits: %v", len(v), v)
	}
	if v := b.mx.Violations(); len(v) != 0 {
		t.Errorf("the homeserver saw %d violations: %v", len(v), v)
	}

	// IRC: every line the bot sent since the burst began, at no more than
	// the flood control's pace, and the bot still there.
	var irc int
	for until := time.Now().Add(3 * time.Second); time.Now().Before(until); {
		l := b.alice.Expect("PRIVMSG", "QUIT", "ERROR")
		if !strings.EqualFold(l.Nick(), "bridgebot") {
			continue
		}
		if l.Command != "PRIVMSG" {
			t.Fatalf("the bot left IRC: %s", l.Raw)
		}
		irc++
	}
	elapsed := time.Since(start)
	t.Logf("in %s: web page %d lines; XMPP %d lines; Telegram %d lines in %d messages; Slack %d lines in %d posts; "+
		"Discord %d lines in %d posts; Matrix %d lines in %d events; IRC %d lines (5 at once, then 1 a second)",
		elapsed.Round(time.Second), len(web), len(xmpp), len(said["telegram"]), len(b.tg.Texts(tgGroup)),
		len(said["slack"]), len(b.sl.Calls("chat.postMessage")), len(said["discord"]), len(b.dc.Posted()),
		len(said["matrix"]), len(b.mx.Sent()), irc)
	if limit := 5 + int(elapsed/time.Second) + 1; irc > limit {
		t.Errorf("IRC got %d lines in %s, over its flood control's %d", irc, elapsed, limit)
	}
	if irc == 0 {
		t.Error("IRC got nothing")
	}
}
