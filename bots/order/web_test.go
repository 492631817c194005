package order_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
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

// page is the web chat page in headless Chromium.
type page struct {
	t   *testing.T
	ctx context.Context
}

// openPage opens url in Chromium, or skips the test when there is none.
func openPage(t *testing.T, url string) *page {
	t.Helper()
	ctx := browsertest.Start(t, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`#msg:enabled`))); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	return &page{t: t, ctx: ctx}
}

// xpathText quotes s for an XPath expression; the tests' texts hold no
// double quote.
func xpathText(s string) string { return `"` + s + `"` }

// expect waits for the bot's last message on the page to be want and, for
// a question, for its buttons.
func (p *page) expect(want string, buttons ...string) {
	p.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.Search(`(//li[@class="bot"])[last()][.=` + xpathText(want) + `]`)),
	}
	for _, b := range buttons {
		steps = append(steps, chromedp.WaitVisible(chromedp.Search(`//li[@class="choices"]/button[not(@disabled)][.=`+xpathText(b)+`]`)))
	}
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("waiting for %q with buttons %v: %v\npage: %s", want, buttons, err, p.log())
	}
}

// click presses the button of the open question that shows text, with a
// mouse click.
func (p *page) click(text string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.Search(`//li[@class="choices"]/button[not(@disabled)][.=`+xpathText(text)+`]`))); err != nil {
		p.t.Fatalf("click %q: %v", text, err)
	}
}

// typeText types text and sends it.
func (p *page) typeText(text string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.CSS(`#msg`), text), chromedp.Click(chromedp.CSS(`#send`))); err != nil {
		p.t.Fatalf("type %q: %v", text, err)
	}
}

// log returns the conversation on the page, one line a message, the
// buttons of a question as "[a] [b]" with the chosen one as "[*a]".
func (p *page) log() string {
	lines, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#log li")).map(li =>
		li.classList.contains("choices")
			? Array.from(li.querySelectorAll("button")).map(b => "[" + (b.classList.contains("chosen") ? "*" : "") + b.textContent + "]").join(" ")
			: li.className + ": " + li.textContent)`))
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// webOrder drives one order to its end on the page: every choice by a
// click, only the name typed; the second order's name is offered as a
// button too.
func webOrder(t *testing.T, url string) *page {
	p := openPage(t, url)
	p.typeText("I'd like a coffee")
	p.expect("Which drink?", "latte", "tea", "espresso")
	p.click("tea")
	p.expect("Which size?", "S", "M", "L")
	p.click("L")
	p.expect("Name for the order?")
	p.typeText("Ada")
	p.expect("L tea for Ada?", "yes", "no")
	p.click("yes")
	p.expect("Ordered: L tea for Ada.")
	return p
}

// TestOrderOnTheWebPage: the order dialog on the web chat page in
// Chromium, through the real WebSocket adapter: its choices are buttons,
// and mouse clicks on them answer it to the end, twice: the second time
// the name given before is a button too.
func TestOrderOnTheWebPage(t *testing.T) {
	url := startWeb(t, newApp())
	p := webOrder(t, url)

	p.typeText("another")
	p.expect("Which drink?", "latte", "tea", "espresso")
	p.click("espresso")
	p.expect("Which size?", "S", "M", "L")
	p.click("S")
	p.expect("Name for the order? (or type another)", "Ada")
	p.click("Ada")
	p.expect("S espresso for Ada?", "yes", "no")
	browsertest.Screenshot(t, p.ctx, "order-buttons.png")
	p.click("yes")
	p.expect("Ordered: S espresso for Ada.")

	want := strings.Join([]string{
		"me: I'd like a coffee", "bot: Which drink?", "[latte] [*tea] [espresso]", "me: tea",
		"bot: Which size?", "[S] [M] [*L]", "me: L",
		"bot: Name for the order?", "me: Ada",
		"bot: L tea for Ada?", "[*yes] [no]", "me: yes",
		"bot: Ordered: L tea for Ada.",
		"me: another", "bot: Which drink?", "[latte] [tea] [*espresso]", "me: espresso",
		"bot: Which size?", "[*S] [M] [L]", "me: S",
		"bot: Name for the order? (or type another)", "[*Ada]", "me: Ada",
		"bot: S espresso for Ada?", "[*yes] [no]", "me: yes",
		"bot: Ordered: S espresso for Ada.",
	}, "\n")
	if got := p.log(); got != want {
		t.Fatalf("the conversation on the page:\n%s\nwant:\n%s", got, want)
	}
}
