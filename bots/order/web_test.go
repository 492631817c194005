package order_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/dialog/buttons"
	"github.com/switchboard-bots/switchboard/internal/browsertest"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// startWeb serves app at /order/ and the chat page at / through the real
// WebSocket adapter, until the test ends, and returns the page's URL.
func startWeb(t *testing.T, app scope.Application) string {
	t.Helper()
	a, err := wsa.New(wsa.Config{Addr: "127.0.0.1:0", PagePath: "/", PageSocket: "/order/"})
	if err != nil {
		t.Fatal(err)
	}
	ws := router.NewPathRouter()
	ws.Handle("/order/", app)
	h := adapters.NewHost(a, adapters.WithScopes(a.ScopeConfig(scope.Config{})))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), router.ByProtocol(router.Routes{"websocket": ws})) }()
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
	return "http://" + a.Addr().String() + "/"
}

// webOrder drives one order to its end on the page: every choice by a
// click, only the name typed; the second order's name is offered as a
// button too.
func webOrder(t *testing.T, url string) *browsertest.ChatPage {
	p := browsertest.OpenChatPage(t, url)
	p.Type("I'd like a coffee")
	p.Expect("Which drink?", "latte", "tea", "espresso")
	p.Click("tea")
	p.Expect("Which size?", "S", "M", "L")
	p.Click("L")
	p.Expect("Name for the order?")
	p.Type("Ada")
	p.Expect("L tea for Ada?", "yes", "no")
	p.Click("yes")
	p.Expect("Ordered: L tea for Ada.")
	return p
}

// TestOrderOnTheWebPage: the order dialog on the web chat page in
// Chromium, through the real WebSocket adapter: its choices are buttons,
// and mouse clicks on them answer it to the end, twice: the second time
// the name given before is a button too. A typed number still answers,
// and a click on a button of a question answered so is told that.
func TestOrderOnTheWebPage(t *testing.T) {
	p := browsertest.OpenChatPage(t, startWeb(t, newApp()))
	p.Type("I'd like a coffee")
	p.Expect("Which drink?", "latte", "tea", "espresso")
	p.Click("tea")
	p.Expect("Which size?", "S", "M", "L")
	p.Type("3") // a typed number answers too
	p.Expect("Name for the order?")
	p.Click("M") // the size question's buttons are still there
	p.Expect(buttons.Stale)
	p.Type("Ada")
	p.Expect("L tea for Ada?", "yes", "no")
	p.Click("yes")
	p.Expect("Ordered: L tea for Ada.")

	p.Type("another")
	p.Expect("Which drink?", "latte", "tea", "espresso")
	p.Click("espresso")
	p.Expect("Which size?", "S", "M", "L")
	p.Click("S")
	p.Expect("Name for the order? (or type another)", "Ada")
	p.Click("Ada")
	p.Expect("S espresso for Ada?", "yes", "no")
	browsertest.Screenshot(t, p.Context(), "order-buttons.png")
	p.Click("yes")
	p.Expect("Ordered: S espresso for Ada.")

	want := strings.Join([]string{
		"me: I'd like a coffee", "bot: Which drink?", "[latte] [*tea] [espresso]", "me: tea",
		"bot: Which size?", "[S] [*M] [L]", "me: 3",
		"bot: Name for the order?", "me: M", "bot: " + buttons.Stale, "me: Ada",
		"bot: L tea for Ada?", "[*yes] [no]", "me: yes",
		"bot: Ordered: L tea for Ada.",
		"me: another", "bot: Which drink?", "[latte] [tea] [*espresso]", "me: espresso",
		"bot: Which size?", "[*S] [M] [L]", "me: S",
		"bot: Name for the order? (or type another)", "[*Ada]", "me: Ada",
		"bot: S espresso for Ada?", "[*yes] [no]", "me: yes",
		"bot: Ordered: S espresso for Ada.",
	}, "\n")
	if got := p.Log(); got != want {
		t.Fatalf("the conversation on the page:\n%s\nwant:\n%s", got, want)
	}
}
