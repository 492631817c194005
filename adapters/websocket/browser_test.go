package websocket_test

import (
	"context"
	"net"
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

	ctx := browser(t, bin)

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

// browser starts headless Chromium for the test and returns its context.
func browser(t *testing.T, bin string) context.Context {
	t.Helper()
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
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx

}

// TestChatPageStaysOnItsHost opens the chat page with a "ws" parameter
// that names another host ("@host:port/path" would make the page's own
// host the URL's user info): the page ignores it and connects to its own
// socket, and the other host never sees a connection. A "ws" path on its
// own host is followed.
func TestChatPageStaysOnItsHost(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("SKIPPED: no Chromium found; the web chat page was NOT tested in a browser")
	}
	ws := router.NewPathRouter()
	ws.Handle("/ws/chat/", wschat.New())
	s := start(t, wsa.Config{PagePath: "/", PageSocket: "/ws/chat/"},
		router.ByProtocol(router.Routes{"websocket": ws}))
	other := listen(t)
	defer other.Close()
	ctx := browser(t, bin)

	for _, q := range []string{"?ws=@" + other.Addr().String() + "/ws/chat/", "?ws=//" + other.Addr().String() + "/ws/chat/", "?ws=/ws/chat/"} {
		err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/"+q), chromedp.WaitVisible(chromedp.CSS(`#log li.bot`)))
		if err != nil {
			t.Fatalf("open the page with %s: %v", q, err)
		}
		welcome, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#log li.bot`)))
		if err != nil || welcome != "Welcome, Anonymous!" {
			t.Fatalf("page with %s shows %q, %v; want the bot's welcome from its own host", q, welcome, err)
		}
	}
	// The page opens one WebSocket at a time, and it reached the bot: the
	// other host got nothing.
	_ = other.(*net.TCPListener).SetDeadline(time.Now())
	if c, err := other.Accept(); err == nil {
		c.Close()
		t.Fatal("the page connected to another host")
	}
}
