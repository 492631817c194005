package order_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/order"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

// newApp is the order bot with its sessions in memory.
func newApp() scope.Application {
	return session.Middleware(memory.New())(order.New(order.Config{}))
}

// host runs a until the test ends.
func host(t *testing.T, a adapters.Adapter, app scope.Application) {
	t.Helper()
	h := adapters.NewHost(a)
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	})
	select {
	case <-h.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
}

// TestOneDefinitionOnTelegramSlackAndTheWebPage: one application value,
// the order dialog of bots/order, serves a Telegram chat (fake Bot API),
// a Slack channel (fake Slack) and the web chat page (Chromium) at once,
// and each order is driven to its end by pressing the platform's buttons:
// callback queries, block actions, mouse clicks.
func TestOneDefinitionOnTelegramSlackAndTheWebPage(t *testing.T) {
	app := newApp()

	tgSrv := telegramtest.New(t)
	tgA, err := telegram.New(telegram.Config{Name: "telegram", Token: telegram.Secret(tgSrv.Token()),
		Endpoint: tgSrv.Endpoint(), Polling: telegram.Polling{Timeout: time.Second},
		Limits: telegram.Limits{Global: -1, Chat: -1, Group: -1}})
	if err != nil {
		t.Fatal(err)
	}
	host(t, tgA, app)

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	fake := fakeslack.New(t, fakeslack.Options{})
	slA, err := slack.New(slack.Config{Name: "slack", Mode: slack.ModeHTTP, BotToken: fakeslack.BotToken,
		SigningSecret: fakeslack.SigningSecret, APIURL: fake.APIURL}, slack.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	slSrv := httptest.NewServer(slA.Handler())
	t.Cleanup(slSrv.Close)
	host(t, slA, app)

	url := startWeb(t, app)

	tg := &tgChat{t: t, srv: tgSrv, chat: 11}
	tgSrv.Text(tg.chat, tg.chat, "coffee")
	tg.press(tg.expect("Which drink?", "latte", "tea", "espresso")["tea"])
	tg.press(tg.expect("Which size?", "S", "M", "L")["L"])
	tg.expect("Name for the order?")
	tgSrv.Text(tg.chat, tg.chat, "Ada")
	tg.press(tg.expect("L tea for Ada?", "yes", "no")["yes"])
	tg.expect("Ordered: L tea for Ada.")

	sl := &slackChat{t: t, fake: fake, endpoint: slSrv.URL, channel: "C11"}
	sl.say("coffee")
	sl.press(sl.expect("Which drink?", "latte", "tea", "espresso")["tea"])
	sl.press(sl.expect("Which size?", "S", "M", "L")["L"])
	sl.expect("Name for the order?")
	sl.say("Ada")
	sl.press(sl.expect("L tea for Ada?", "yes", "no")["yes"])
	sl.expect("Ordered: L tea for Ada.")

	webOrder(t, url)
}
