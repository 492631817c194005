package websocket_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/bots/wschat"
	"github.com/switchboard-bots/switchboard/router"
)

// chromium finds a Chromium binary, or "" when none is installed.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestChatPageInBrowser opens the web chat page in headless Chromium, types
// a message, and waits for the chat bot's answer on the page.
func TestChatPageInBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("SKIPPED: no Chromium found (install it with `apt-get install -y chromium`, " +
			"or set CHROMIUM); the web chat page was NOT tested in a browser")
	}
	ws := router.NewPathRouter()
	ws.Handle("/ws/chat/", wschat.New())
	s := start(t, wsa.Config{PagePath: "/", PageSocket: "/ws/chat/"},
		router.ByProtocol(router.Routes{"websocket": ws}))

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(css(`#log li.bot`))); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	welcome, err := chromedp.Run(ctx, chromedp.Text(css(`#log li.bot`)))
	if err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(css(`#status`)))
	if err != nil {
		t.Fatal(err)
	}
	if welcome != "Welcome, Anonymous!" || status != "connected" {
		t.Fatalf("page shows %q (status %q), want the bot's welcome and connected", welcome, status)
	}

	err = chromedp.Do(ctx,
		chromedp.SendKeys(css(`#msg`), "/name Ada"),
		chromedp.Click(css(`#send`)),
		chromedp.WaitVisible(css(`#log li.bot:nth-of-type(3)`)), // welcome, mine, answer
		chromedp.SendKeys(css(`#msg`), "hello from the browser"),
		chromedp.Click(css(`#send`)),
		chromedp.WaitVisible(css(`#log li.bot:nth-of-type(5)`)),
	)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text(css(`#log`)))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range strings.SplitSeq(log, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	want := []string{"Welcome, Anonymous!", "/name Ada", "You are now Ada.", "hello from the browser", "Ada: hello from the browser"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("conversation on the page:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
