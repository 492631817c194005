package websocket_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/internal/browsertest"
)

// TestChatPageButtonsInBrowser: in Chromium, the chat page shows a
// question's choices as buttons, text as text (markup in a choice is not
// markup), and a mouse click answers with the choice's token, which the
// consumer gets as an event.Answer; the buttons of an answered question
// are disabled.
func TestChatPageButtonsInBrowser(t *testing.T) {
	s := start(t, wsa.Config{PagePath: "/", PageSocket: "/ask/"}, askerRoutes())
	p := browsertest.OpenChatPage(t, s.url+"/")
	p.Type("html")
	p.Expect("<i>Which?</i>", "<b>bold</b>", `"quoted'`)
	markup, err := chromedp.Run(p.Context(), chromedp.Evaluate[int](`document.querySelectorAll("#log i, #log b").length`))
	if err != nil || markup != 0 {
		t.Fatalf("%d elements made of a question's text (%v); want it shown as text", markup, err)
	}
	p.Click("<b>bold</b>")
	p.Expect("answer: t-b <b>bold</b>")
	disabled, err := chromedp.Run(p.Context(), chromedp.Evaluate[int](`document.querySelectorAll("#log li.choices button:disabled").length`))
	if err != nil || disabled != 2 {
		t.Fatalf("%d buttons disabled after the answer (%v); want both", disabled, err)
	}
	p.Type("2")
	p.Expect("text: 2")
}
