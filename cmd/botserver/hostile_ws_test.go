package main_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// hostile starts botserver with the chat bot at /ws/chat/, the chat page
// at /, compression on and an ops listener, and returns it with the ops
// address. extra is added to the websocket section.
func hostile(t *testing.T, extra string) (*proc, string) {
	t.Helper()
	ops := porttest.Addr(t)
	p := startBotserver(t, true, "-config", writeConfig(t, fmt.Sprintf(`
websocket:
  addr: "127.0.0.1:0"
  compression: true
  page_path: /
  page_socket: /ws/chat/
%s
ops: {addr: %q}
routes:
  websocket:
    paths:
      - {path: /ws/chat/, bot: wschat}
`, extra, ops)))
	return p, ops
}

// stillServes checks what every hostile test ends with: /healthz answers
// and a new chat user gets the bot's welcome and answer.
func (p *proc) stillServes(t *testing.T, ops string) {
	t.Helper()
	resp, err := http.Get("http://" + ops + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
	c := wsDial(t, p.addr, "/ws/chat/")
	chat(t, c)
	c.Close()
}

// chat checks that c is a live chat: it gets the welcome once, then an
// answer to what it says.
func chat(t *testing.T, c *gorilla.Conn) {
	t.Helper()
	if got := wsRead(t, c); got != "Welcome, Anonymous!" {
		t.Fatalf("welcome: %q", got)
	}
	talk(t, c)
}

func talk(t *testing.T, c *gorilla.Conn) {
	t.Helper()
	if err := c.WriteMessage(gorilla.TextMessage, []byte("still here")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if got := wsRead(t, c); got != "Anonymous: still here" {
		t.Fatalf("answer: %q", got)
	}
}

// status reads a field of /proc/PID/status in KiB.
func status(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// Eight connections each send one compressed 60 MiB message, about 61 KB
// on the wire, under the default 64 KiB read_limit: each is closed with
// 1009 without the message being inflated whole, and the process's peak
// resident memory grows by less than 64 MiB (each message inflated whole
// would take over 60 MiB).
func TestHostileCompressionBomb(t *testing.T) {
	// The quiet user reads nothing while the bombs are made and sent, so
	// it answers no ping: a minute of that on a loaded machine, under the
	// race detector, would have it dropped as dead. Pings are not what is
	// tested here.
	p, ops := hostile(t, "  ping_interval: 10m")
	quiet := wsDial(t, p.addr, "/ws/chat/")
	chat(t, quiet)

	bomb := make([]byte, 60<<20)
	var wire bytes.Buffer
	fw, _ := flate.NewWriter(&wire, flate.BestCompression)
	_, _ = fw.Write(bomb)
	_ = fw.Flush()
	if wire.Len() >= 64<<10 {
		t.Fatalf("the bomb is %d bytes on the wire, not under read_limit", wire.Len())
	}
	pm, err := gorilla.NewPreparedMessage(gorilla.BinaryMessage, bomb)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.cmd.Process.Pid
	before := status(t, pid, "VmRSS")

	const n = 8
	d := gorilla.Dialer{EnableCompression: true}
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		c, resp, err := d.Dial("ws://"+p.addr+"/ws/chat/", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if !strings.Contains(resp.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate") {
			t.Fatal("compression not negotiated")
		}
		c.EnableWriteCompression(true)
		_ = c.SetCompressionLevel(flate.BestCompression)
		if got := wsRead(t, c); got != "Welcome, Anonymous!" {
			t.Fatalf("welcome: %q", got)
		}
		wg.Go(func() {
			_ = c.WritePreparedMessage(pm)
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					codes <- closeCode(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != gorilla.CloseMessageTooBig {
			t.Errorf("close code %d, want 1009", code)
		}
	}
	after, peak := status(t, pid, "VmRSS"), status(t, pid, "VmHWM")
	t.Logf("VmRSS before %d KiB, after %d KiB; peak VmHWM %d KiB; %d messages of %d bytes sent as %d bytes each",
		before, after, peak, n, len(bomb), wire.Len())
	if peak-before >= 64<<10 {
		t.Errorf("peak resident memory grew by %d KiB, want under 64 MiB", peak-before)
	}
	talk(t, quiet)
	p.stillServes(t, ops)
}

// At max_scopes new WebSocket connections are refused with 503 before
// the upgrade, however many arrive, and the quiet users already connected
// stay connected.
func TestHostileConnectionCycling(t *testing.T) {
	p, ops := hostile(t, "  scopes: {max_scopes: 3}")
	quiet := make([]*gorilla.Conn, 2)
	for i := range quiet {
		quiet[i] = wsDial(t, p.addr, "/ws/chat/")
		chat(t, quiet[i])
	}
	statuses := map[int]int{}
	for range 50 {
		c, resp, err := gorilla.DefaultDialer.Dial("ws://"+p.addr+"/ws/chat/", nil)
		switch {
		case err == nil:
			statuses[http.StatusSwitchingProtocols]++
			_ = c.Close() // cycling: open, drop, open again
		case resp != nil:
			statuses[resp.StatusCode]++
		default:
			t.Fatalf("dial: %v", err)
		}
	}
	t.Logf("50 connections cycled at max_scopes 3 with 2 quiet users: statuses %v", statuses)
	for i, c := range quiet {
		talk(t, c) // a quiet user closed with 1013 would fail here
		_ = i
	}
	// Fill the last slot and hold it: every further connection is refused.
	held := wsDial(t, p.addr, "/ws/chat/")
	chat(t, held)
	for range 10 {
		_, resp, err := gorilla.DefaultDialer.Dial("ws://"+p.addr+"/ws/chat/", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("at max_scopes: %v, want 503", err)
		}
	}
	for _, c := range append(quiet, held) {
		talk(t, c)
	}
	resp, err := http.Get("http://" + ops + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	// A user leaves; a new one takes the slot.
	_ = quiet[0].WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""))
	_, _, _ = quiet[0].ReadMessage()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+p.addr+"/ws/chat/", nil)
		if err == nil {
			chat(t, c)
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot of a user who left never freed: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling the server's state, which it does not announce
	}
}

// A rebound name (Host and Origin both evil.example) is refused with 403;
// the server's own origin is accepted.
func TestHostileDNSRebinding(t *testing.T) {
	p, ops := hostile(t, "")
	_, port, _ := net.SplitHostPort(p.addr)
	for _, tc := range []struct {
		host, origin string
		want         int
	}{
		{"evil.example", "http://evil.example", http.StatusForbidden},
		{"evil.example:" + port, "http://evil.example:" + port, http.StatusForbidden},
		{p.addr, "http://" + p.addr, http.StatusSwitchingProtocols},
		{"localhost:" + port, "http://localhost:" + port, http.StatusSwitchingProtocols},
	} {
		c, resp, err := gorilla.DefaultDialer.Dial("ws://"+p.addr+"/ws/chat/",
			http.Header{"Host": {tc.host}, "Origin": {tc.origin}})
		got := 0
		if resp != nil {
			got = resp.StatusCode
		}
		if c != nil {
			c.Close()
		}
		if got != tc.want {
			t.Errorf("Host %s, Origin %s: status %d (%v), want %d", tc.host, tc.origin, got, err, tc.want)
		}
	}
	p.stillServes(t, ops)
}

// The chat page's policy lets it connect to its own host only, and the
// page opened with ?ws=@otherhost:port/path (in Chromium, when installed)
// connects to its own socket, never to the other host.
func TestHostilePageSocketParameter(t *testing.T) {
	p, ops := hostile(t, "")
	resp, err := http.Get("http://" + p.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if want := "connect-src 'self' ws://" + p.addr + " wss://" + p.addr; !strings.HasSuffix(csp, want) {
		t.Fatalf("policy %q, want it to end with %q", csp, want)
	}
	t.Logf("Content-Security-Policy: %s", csp)

	bin := ""
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if path, err := exec.LookPath(name); name != "" && err == nil {
			bin = path
			break
		}
	}
	if bin == "" {
		t.Log("no Chromium found: the page itself was not opened in a browser")
		p.stillServes(t, ops)
		return
	}
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	page := "http://" + p.addr + "/?ws=@" + other.Addr().String() + "/ws/chat/"
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#log li.bot`))); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	welcome, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#log li.bot`)))
	if err != nil || welcome != "Welcome, Anonymous!" {
		t.Fatalf("page shows %q, %v; want the bot's welcome from its own host", welcome, err)
	}
	_ = other.(*net.TCPListener).SetDeadline(time.Now())
	if c, err := other.Accept(); err == nil {
		c.Close()
		t.Fatal("the page connected to the other host")
	}
	p.stillServes(t, ops)
}
