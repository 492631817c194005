package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChatPage is the web chat page (adapters/websocket's ChatPage) open in
// headless Chromium, driven as a user does: typing, and clicking the
// buttons of the bot's questions with the mouse.
type ChatPage struct {
	t   *testing.T
	ctx context.Context
}

// OpenChatPage starts Chromium (see Start), opens the chat page at url and
// waits until it is connected.
func OpenChatPage(t *testing.T, url string) *ChatPage {
	t.Helper()
	ctx := Start(t, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`#msg:enabled`))); err != nil {
		t.Fatalf("open the chat page %s: %v", url, err)
	}
	return &ChatPage{t: t, ctx: ctx}
}

// Context returns the browser's context, for more chromedp actions.
func (p *ChatPage) Context() context.Context { return p.ctx }

// quote quotes s for an XPath expression, which has no escapes: a text
// with double quotes is a concat of its parts and quoted quotes.
func quote(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	parts := strings.Split(s, `"`)
	for i, p := range parts {
		parts[i] = `"` + p + `"`
	}
	return "concat(" + strings.Join(parts, `, '"', `) + ")"
}

// openButton selects the enabled button that shows text: one of the
// question still open.
func openButton(text string) chromedp.Search {
	return chromedp.Search(`//li[@class="choices"]/button[not(@disabled)][.=` + quote(text) + `]`)
}

// Expect waits until the bot's last message on the page is want, and the
// open question's buttons include the ones named.
func (p *ChatPage) Expect(want string, buttons ...string) {
	p.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.Search(`(//li[@class="bot"])[last()][.=` + quote(want) + `]`)),
	}
	for _, b := range buttons {
		steps = append(steps, chromedp.WaitVisible(openButton(b)))
	}
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("waiting for %q with buttons %v: %v\nthe page shows:\n%s", want, buttons, err, p.Log())
	}
}

// Click clicks the open question's button that shows text, with the mouse.
func (p *ChatPage) Click(text string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(openButton(text))); err != nil {
		p.t.Fatalf("click %q: %v\nthe page shows:\n%s", text, err, p.Log())
	}
}

// Type types text into the message box and sends it.
func (p *ChatPage) Type(text string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, Type(`#msg`, text), chromedp.Click(chromedp.CSS(`#send`))); err != nil {
		p.t.Fatalf("type %q: %v", text, err)
	}
}

// Log returns the conversation on the page, a line a message as
// "who: text", a question's buttons as "[a] [b]", the one clicked "[*a]".
func (p *ChatPage) Log() string {
	lines, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#log li")).map(li =>
		li.classList.contains("choices")
			? Array.from(li.querySelectorAll("button")).map(b => "[" + (b.classList.contains("chosen") ? "*" : "") + b.textContent + "]").join(" ")
			: li.className + ": " + li.textContent)`))
	if err != nil {
		return "(the page could not be read: " + err.Error() + ")"
	}
	return strings.Join(lines, "\n")
}
