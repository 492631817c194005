package status_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/browsertest"
	"github.com/switchboard-bots/switchboard/ops/status"
)

// pageView is what the page shows, read from its DOM.
type pageView struct {
	Ready    string
	Adapters map[string]struct {
		State, Scopes, ScopesText, Note string
		In, Out                         float64
		Points                          int
	}
	Slow     [][]string
	Latency  [][]string
	Layer    string
	Cluster  string
	Problems string
	Text     string
}

const readPage = `(() => {
  const v = {ready: document.querySelector('#ready').textContent, adapters: {}};
  for (const r of document.querySelectorAll('#adapters tbody tr.adapter')) {
    v.adapters[r.dataset.name] = {
      state: r.querySelector('.state .badge').textContent,
      scopes: r.querySelector('.scopes .count').textContent,
      scopestext: r.querySelector('.scopes').textContent,
      in: parseFloat(r.querySelector('td.in').textContent),
      out: parseFloat(r.querySelector('td.out').textContent),
      points: parseInt(r.querySelector('canvas').dataset.points || '0'),
      note: r.querySelector('.note').textContent,
    };
  }
  const cells = (sel) => [...document.querySelectorAll(sel)].map((r) => [...r.cells].map((c) => c.textContent));
  v.slow = cells('#slow tbody tr');
  v.latency = cells('#latency tbody tr');
  v.layer = document.querySelector('#layer').textContent;
  v.cluster = document.querySelector('#cluster').textContent;
  v.problems = document.querySelector('#problems').innerText;
  v.text = document.body.innerText;
  return v;
})()`

// TestStatusPageInChromium runs a real server (WebSocket on loopback,
// Telegram against the fake Bot API, the ops listener), drives WebSocket
// echo traffic and Telegram chats through it with one WebSocket handler
// stuck and one Telegram call failing, opens /status in headless
// Chromium, and checks what the page shows: a row per adapter, serving,
// with its live scopes against its bound and non-zero event rates, the
// Telegram adapter's last problem, latency percentiles, and the stuck
// handler. It keeps a screenshot in $SWITCHBOARD_ARTIFACTS (or the test's
// temporary directory).
func TestStatusPageInChromium(t *testing.T) {
	ctx := browsertest.Start(t, 90*time.Second)
	s, tg := runServer(t)

	// Traffic until the test ends: ten WebSocket clients echoing, five
	// Telegram chats talking.
	traffic, stopTraffic := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stopTraffic(); wg.Wait() })
	dial := func(path string) *gorilla.Conn {
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+s.WebSocketAddr().String()+path, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for i := range 10 {
		c := dial("/chat/")
		wg.Go(func() {
			for n := 0; traffic.Err() == nil; n++ {
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if err := c.WriteMessage(gorilla.TextMessage, fmt.Appendf(nil, "client %d says %d", i, n)); err != nil {
					return
				}
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
				select { // about 20 messages a second per client
				case <-traffic.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	}
	tg.Fail("sendMessage", 1, telegramtest.ServerError()) // a problem the page must show
	wg.Go(func() {
		for n := 0; ; n++ {
			for chat := int64(1); chat <= 5; chat++ {
				tg.Text(chat, chat*10, fmt.Sprintf("hello %d", n))
			}
			select {
			case <-traffic.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	st := dial("/stuck/")
	if err := st.WriteMessage(gorilla.TextMessage, []byte("hold on")); err != nil {
		t.Fatal(err)
	}

	page := "http://" + s.OpsAddr().String() + "/status"
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 1000), chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	// What the page must come to show; the samples that feed it come once
	// a second.
	const shows = `(() => {
  const row = (n) => document.querySelector('#adapters tr.adapter[data-name="' + n + '"]');
  const ws = row('websocket'), tg = row('telegram');
  if (!ws || !tg) return false;
  const num = (r, sel) => parseFloat(r.querySelector(sel).textContent);
  return num(ws, 'td.in') > 0 && num(ws, 'td.out') > 0 && num(tg, 'td.in') > 0 && num(tg, 'td.out') > 0 &&
    ws.querySelector('.scopes .count').textContent === '11' && tg.querySelector('.scopes .count').textContent === '5' &&
    document.querySelector('#problems').textContent.includes('[telegram] telegram: call failed; retrying') &&
    [...document.querySelectorAll('#slow tbody tr')].some((r) => r.textContent.includes('websocket.receive')) &&
    document.querySelectorAll('#latency tbody tr').length > 0 &&
    parseInt(ws.querySelector('canvas').dataset.points || '0') >= 5;
})()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](shows, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		v, _ := read(ctx)
		t.Fatalf("the page never showed the traffic, the scopes, the problem and the stuck handler: %v\npage:\n%s\n%s:\n%s",
			err, v.Text, status.JSONPath, get(t, "http://"+s.OpsAddr().String()+status.JSONPath))
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browsertest.Artifacts(t), "status-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the status page: %s", path)

	v, err := read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, tgRow := v.Adapters["websocket"], v.Adapters["telegram"]
	if len(v.Adapters) != 2 || ws.State != "serving" || tgRow.State != "serving" || v.Ready != "ready" {
		t.Errorf("adapters %v, ready %q: want websocket and telegram serving, the server ready", v.Adapters, v.Ready)
	}
	if !strings.Contains(ws.ScopesText, "11 / 50 (22%)") || !strings.Contains(tgRow.ScopesText, "5 / 100 (5%)") {
		t.Errorf("scopes: websocket %q, telegram %q; want 11 / 50 (22%%) and 5 / 100 (5%%)", ws.ScopesText, tgRow.ScopesText)
	}
	// Ten clients at most 20 echoes a second each; five chats 5 a second.
	if ws.In <= 0 || ws.In > 250 || tgRow.In <= 0 || tgRow.In > 30 {
		t.Errorf("rates in: websocket %v/s, telegram %v/s", ws.In, tgRow.In)
	}
	// The failed call is telegram's last problem unless a later warning
	// (a handler slowed by a busy machine) took its place in the row; the
	// list of recent problems keeps both.
	if !strings.Contains(tgRow.Note, "WARN: ") || !strings.Contains(tgRow.Note, " ago (") {
		t.Errorf("telegram's note %q lacks its last problem and when", tgRow.Note)
	}
	if !strings.Contains(v.Problems, "WARN [telegram] telegram: call failed; retrying: telegram: sendMessage: 500 Internal Server Error") {
		t.Errorf("recent problems lack telegram's failed call:\n%s", v.Problems)
	}
	// The stuck handler is listed; on a busy machine a Telegram handler
	// may be too, for a moment.
	stuckShown := false
	for _, r := range v.Slow {
		stuckShown = stuckShown || r[0] == "websocket" && r[2] == "websocket.receive" && r[1] != "" && strings.HasSuffix(r[3], " s")
	}
	if !stuckShown {
		t.Errorf("slow handlers: %q, want the stuck websocket.receive, running for seconds", v.Slow)
	}
	protocols := map[string]bool{}
	for _, l := range v.Latency {
		protocols[l[0]] = true
		if l[2] == "–" {
			t.Errorf("latency of %s has no p50: %q", l[0], l)
		}
	}
	if !protocols["websocket"] || !protocols["telegram"] {
		t.Errorf("latency rows %q, want websocket and telegram", v.Latency)
	}
	if !strings.Contains(v.Layer, "memory") || !strings.Contains(v.Layer, "reachable") || !strings.Contains(v.Cluster, "every conversation") {
		t.Errorf("layer %q, cluster %q", v.Layer, v.Cluster)
	}
	if strings.Contains(v.Text, tg.Token()) {
		t.Error("the page shows the Telegram token")
	}
}

func read(ctx context.Context) (pageView, error) {
	var v pageView
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](readPage))
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(raw, &v)
}
