package main_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// The kill tests' load: 2,000 updates over 200 private chats, answered by
// the echo bot at Telegram's 30 messages a second (the adapter's own
// limiter; the fake refuses anything faster with a 429).
const (
	killChats   = 200
	killPerChat = 10
	killAfter   = 500 // answers sent before the SIGKILL
)

func killChat(c int) int64 { return int64(5000 + c) }

// injectKillLoad queues every update at once, chat by chat in turn, and
// returns the last update_id.
func injectKillLoad(tg *telegramtest.Server) (last int) {
	for i := range killPerChat {
		for c := range killChats {
			last = tg.Text(killChat(c), killChat(c), fmt.Sprintf("c%d-%d", c, i))
		}
	}
	return last
}

// checkKillAnswers checks what the fake received: every update answered,
// each chat's answers in update order within each process's life (the
// first `before` answers are the killed process's), and no more
// duplicates than the updates in flight at the kill. It returns the
// duplicates.
func checkKillAnswers(t *testing.T, tg *telegramtest.Server, before, inFlight int) int {
	t.Helper()
	var ok []telegramtest.Call
	for _, c := range tg.Calls("sendMessage") {
		if c.Status == http.StatusOK {
			ok = append(ok, c)
		}
	}
	type life struct{ last map[int64]int } // chat → last index answered in this life
	lives := []life{{map[int64]int{}}, {map[int64]int{}}}
	seen := map[string]int{}
	dups := 0
	for i, c := range ok {
		text, found := strings.CutPrefix(c.Params.Get("text"), "You said: ")
		chatPart, idxPart, _ := strings.Cut(strings.TrimPrefix(text, "c"), "-")
		idx, err := strconv.Atoi(idxPart)
		if !found || err != nil || c.ChatID() != killChat(atoi(chatPart)) {
			t.Fatalf("unexpected answer %q to chat %d", c.Params.Get("text"), c.ChatID())
		}
		l := lives[0]
		if i >= before {
			l = lives[1]
		}
		if last, ok := l.last[c.ChatID()]; ok && idx <= last {
			t.Fatalf("chat %d: answer to update %d after the answer to %d in the same process: order broken", c.ChatID(), idx, last)
		}
		l.last[c.ChatID()] = idx
		if seen[text]++; seen[text] > 1 {
			dups++
		}
	}
	for c := range killChats {
		for i := range killPerChat {
			if seen[fmt.Sprintf("c%d-%d", c, i)] == 0 {
				t.Fatalf("update c%d-%d was never answered", c, i)
			}
		}
	}
	// After the restart a chat starts again no later than its first update
	// not answered before the kill: nothing is skipped.
	for chat, first := range firstAfter(ok[before:]) {
		if last, ok := lives[0].last[chat]; ok && first > last+1 {
			t.Fatalf("chat %d: the restarted process began at update %d, after %d: updates skipped", chat, first, last)
		}
	}
	t.Logf("%d answers, %d duplicates, %d updates in flight at the kill", len(ok), dups, inFlight)
	if dups > inFlight {
		t.Fatalf("%d duplicates, more than the %d updates in flight at the kill", dups, inFlight)
	}
	return dups
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// firstAfter returns each chat's first answered update index in calls.
func firstAfter(calls []telegramtest.Call) map[int64]int {
	out := map[int64]int{}
	for _, c := range calls {
		if _, ok := out[c.ChatID()]; ok {
			continue
		}
		_, idx, _ := strings.Cut(c.Params.Get("text"), "-")
		out[c.ChatID()] = atoi(idx)
	}
	return out
}

// killAndRestart lets the botserver answer killAfter updates, kills it
// with SIGKILL, measures what was in flight, and starts it again.
func killAndRestart(t *testing.T, tg *telegramtest.Server, cfg string) (before, inFlight int) {
	t.Helper()
	p := startBotserver(t, false, "-config", cfg)
	if err := tg.AwaitSent(killAfter, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	for _, c := range tg.Calls("sendMessage") {
		if c.Status == http.StatusOK {
			before++
		}
	}
	inFlight = tg.InFlight()
	t.Logf("killed after %d answers with %d updates in flight", before, inFlight)
	startBotserver(t, false, "-config", cfg)
	return before, inFlight
}

// A botserver polling Telegram, killed with SIGKILL while it answers 2,000
// updates across 200 chats, and started again: every update is answered,
// each chat in order, and only updates in flight at the kill are answered
// twice.
func TestTelegramPollingSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t, telegramtest.WithFloodControl())
	cfg := writeConfig(t, fmt.Sprintf(`
telegram: {token: %q, endpoint: %q, polling: {timeout: 1s}}
routes:
  telegram: {bot: echo}
`, tg.Token(), tg.Endpoint()))
	last := injectKillLoad(tg)
	began := time.Now()
	before, inFlight := killAndRestart(t, tg, cfg)
	// Every update is confirmed once handled, so this waits until all
	// were answered.
	if err := tg.AwaitConfirmed(last, 85*time.Second); err != nil {
		t.Fatal(err)
	}
	dups := checkKillAnswers(t, tg, before, inFlight)
	t.Logf("polling: %d duplicates after a SIGKILL (bound %d); %d floods refused; %v", dups, inFlight, tg.Floods(), time.Since(began))
}

// The same in webhook mode, the fake playing Telegram's webhook sender:
// up to max_connections requests at once, one chat's updates in order,
// each retried until it gets a 2xx.
func TestTelegramWebhookSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t, telegramtest.WithFloodControl())
	addr := porttest.Addr(t)
	cfg := writeConfig(t, fmt.Sprintf(`
telegram:
  token: %q
  endpoint: %q
  mode: webhook
  webhook: {url: "http://%s/telegram", listen: %q, secret_token: kill-test-secret, max_connections: 40}
routes:
  telegram: {bot: echo}
`, tg.Token(), tg.Endpoint(), addr, addr))
	last := injectKillLoad(tg)
	began := time.Now()
	before, inFlight := killAndRestart(t, tg, cfg)
	if err := tg.AwaitConfirmed(last, 85*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, at := range tg.WebhookAttempts() {
		if at.Status != 0 && at.Status != http.StatusOK {
			t.Errorf("webhook attempt %+v: only 200 or a refused connection expected", at)
		}
	}
	dups := checkKillAnswers(t, tg, before, inFlight)
	t.Logf("webhook: %d duplicates after a SIGKILL (bound %d); %d floods refused; %v", dups, inFlight, tg.Floods(), time.Since(began))
}
