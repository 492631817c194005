package websocket_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/bots/wschat"
	"github.com/switchboard-bots/switchboard/internal/browsertest"
	"github.com/switchboard-bots/switchboard/router"
)

// TestChatPageInBrowser opens the web chat page in headless Chromium, types
// a message, and waits for the chat bot's answer on the page.
func TestChatPageInBrowser(t *testing.T) {
	ctx := browsertest.Start(t, 60*time.Second)
	ws := router.NewPathRouter()
	ws.Handle("/ws/chat/", wschat.New())
	s := start(t, wsa.Config{PagePath: "/", PageSocket: "/ws/chat/"},
		router.ByProtocol(router.Routes{"websocket": ws}))

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
		browsertest.Type(`#msg`, "/name Ada"),
		chromedp.Click(css(`#send`)),
		chromedp.WaitVisible(css(`#log li.bot:nth-of-type(3)`)), // welcome, mine, answer
		browsertest.Type(`#msg`, "hello from the browser"),
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

// TestChatPageStaysOnItsHost opens the chat page with a "ws" parameter
// that names another host ("@host:port/path" would make the page's own
// host the URL's user info): the page ignores it and connects to its own
// socket, and the other host never sees a connection. A "ws" path on its
// own host is followed.
func TestChatPageStaysOnItsHost(t *testing.T) {
	ctx := browsertest.Start(t, 60*time.Second)
	ws := router.NewPathRouter()
	ws.Handle("/ws/chat/", wschat.New())
	s := start(t, wsa.Config{PagePath: "/", PageSocket: "/ws/chat/"},
		router.ByProtocol(router.Routes{"websocket": ws}))
	other := listen(t)
	defer other.Close()

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
