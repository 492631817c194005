package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// Hostile clients on loopback against the real binary, with limits scaled
// down in the config so that each test runs in seconds. Each proves a
// bound: the ops listener keeps answering /healthz, a chat user on the web
// page keeps being answered, the process's file descriptors and memory stay
// under a stated bound, and no secret reaches the logs.

const hostileSecret = "hostile-webhook-secret-token"

// raiseNoFile lets the test hold n client sockets.
func raiseNoFile(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	if lim.Cur < n {
		if lim.Max < n {
			t.Skipf("RLIMIT_NOFILE hard limit %d < %d", lim.Max, n)
		}
		lim.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Skip(err)
		}
	}
}

// fds counts the open file descriptors of pid.
func fds(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// rssKiB reads VmRSS of pid.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// healthz asserts that the ops listener answers /healthz with 200.
func healthz(t *testing.T, opsAddr string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get("http://" + opsAddr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz under the flood: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/healthz under the flood: %d", res.StatusCode)
	}
}

// awaitReady waits until /readyz says every adapter is up.
func awaitReady(t *testing.T, opsAddr string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := c.Get("http://" + opsAddr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // a poll: the process tells readiness only there
	}
}

// chatUser asserts that a user of the web page gets the echo bot's answer.
func chatUser(t *testing.T, addr, text string) {
	t.Helper()
	ws := wsDial(t, addr, "/ws/")
	if err := ws.WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
		t.Fatal(err)
	}
	if got := wsRead(t, ws); got != "You said: "+text {
		t.Fatalf("chat user under the flood: %q", got)
	}
	ws.Close()
}

// noSecrets asserts that the server's logs hold none of secrets.
func noSecrets(t *testing.T, p *proc, secrets ...string) {
	t.Helper()
	p.mu.Lock()
	logs := p.logs.String()
	p.mu.Unlock()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%.6s...) is in the logs", s)
		}
	}
}

// closedBy waits until the server closes every one of conns, or d passes,
// and returns how many it closed.
func closedBy(conns []net.Conn, d time.Duration) int {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var mu sync.Mutex
	closed := 0
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return closed
}

// Row 1: thousands of idle keep-alive connections to the Telegram webhook
// port, half after one unauthenticated request each, half sending nothing.
// The webhook listener holds at most its max_conns (200 here), refuses the
// rest with 503 at once, closes a stranger's connection after its 401, and
// closes connections that send nothing at read_header_timeout; /healthz
// and the web page keep answering throughout.
func TestHostileIdleConnectionsOnTheWebhook(t *testing.T) {
	const flood, maxConns = 3000, 200
	raiseNoFile(t, 3*flood)
	tg := telegramtest.New(t)
	hook, opsAddr := porttest.Addr(t), porttest.Addr(t)
	p := startBotserver(t, true, "-config", writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /ws/}
telegram:
  token: %q
  endpoint: %q
  mode: webhook
  webhook:
    listen: %q
    secret_token: %s
    listener: {max_conns: %d, max_conns_per_client: %d, read_header_timeout: 2s, idle_timeout: 2s}
ops: {addr: %q}
routes:
  websocket: {bot: echo}
  telegram: {bot: echo}
`, tg.Token(), tg.Endpoint(), hook, hostileSecret, maxConns, maxConns, opsAddr)))
	pid := p.cmd.Process.Pid
	awaitReady(t, opsAddr)
	baseFDs, baseRSS := fds(t, pid), rssKiB(t, pid)

	conns := make([]net.Conn, 0, flood)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	statuses := map[int]int{}
	for i := range flood {
		c, err := net.DialTimeout("tcp", hook, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		if i%2 == 0 {
			_, _ = io.WriteString(c, "POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
		}
	}
	peakFDs := fds(t, pid)
	healthz(t, opsAddr)
	chatUser(t, p.addr, "still here")
	for i, c := range conns {
		if i%2 != 0 {
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if res, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			statuses[res.StatusCode]++
			res.Body.Close()
		} else {
			statuses[0]++ // closed without an answer: refused before its request was read
		}
	}
	closed := closedBy(conns, 10*time.Second)
	afterFDs, afterRSS := fds(t, pid), rssKiB(t, pid)
	t.Logf("%d connections: server fds %d before, %d under the flood, %d after; RSS %d KiB before, %d KiB after; "+
		"%d closed by the server within 10s; answers to the requests (0: none): %v",
		flood, baseFDs, peakFDs, afterFDs, baseRSS, afterRSS, closed, statuses)

	if peakFDs > baseFDs+maxConns+20 {
		t.Errorf("the server held %d fds under the flood, over %d + max_conns %d", peakFDs, baseFDs, maxConns)
	}
	if closed != flood {
		t.Errorf("the server closed %d of %d connections within 10s", closed, flood)
	}
	for st := range statuses {
		if st != http.StatusUnauthorized && st != http.StatusServiceUnavailable {
			t.Errorf("unauthenticated requests answered %d: %v", st, statuses)
		}
	}
	if afterRSS > baseRSS+64<<10 {
		t.Errorf("RSS grew from %d KiB to %d KiB, over 64 MiB", baseRSS, afterRSS)
	}
	healthz(t, opsAddr)
	chatUser(t, p.addr, "after the flood")
	noSecrets(t, p, hostileSecret, tg.Token())
}

// Row 2: 300 Slack requests announcing a 1 MB body and trickling it. An
// unsigned one is refused 401 before a byte of its body is read; one with
// plausible signature headers (it cannot be verified before its body is
// read) takes its share of the process's body budget (4 MiB here) or gets
// 503 at once, and is cut off at read_body_timeout. RSS stays within a
// bound far under 300 MB.
func TestHostileSlackBodies(t *testing.T) {
	const clients, bodySize = 300, 1 << 20
	raiseNoFile(t, 4*clients)
	sl := fakeslack.New(t, fakeslack.Options{})
	slAddr, opsAddr := porttest.Addr(t), porttest.Addr(t)
	p := startBotserver(t, true, "-config", writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /ws/}
slack:
  mode: http
  bot_token: %q
  signing_secret: %q
  api_url: %q
  listen: %q
  max_body: %d
  listener: {max_conns_per_client: 1000, read_body_timeout: 2s}
ops: {addr: %q, body_budget: 4194304}
routes:
  websocket: {bot: echo}
  slack: {bot: echo}
`, fakeslack.BotToken, fakeslack.SigningSecret, sl.APIURL, slAddr, bodySize, opsAddr)))
	pid := p.cmd.Process.Pid
	awaitReady(t, opsAddr)
	baseRSS := rssKiB(t, pid)

	run := func(signed bool) (map[int]int, time.Duration) {
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Go(func() {
				st := trickle(t, slAddr, signed, bodySize)
				mu.Lock()
				statuses[st]++
				mu.Unlock()
			})
		}
		// While they trickle, the process answers.
		healthz(t, opsAddr)
		chatUser(t, p.addr, "still here")
		wg.Wait()
		return statuses, time.Since(start)
	}
	unsigned, tookU := run(false)
	midRSS := rssKiB(t, pid)
	signed, tookS := run(true)
	afterRSS := rssKiB(t, pid)
	t.Logf("unsigned: %v in %v; plausibly signed: %v in %v; RSS %d KiB before, %d KiB after unsigned, %d KiB after signed",
		unsigned, tookU.Round(time.Millisecond), signed, tookS.Round(time.Millisecond), baseRSS, midRSS, afterRSS)

	if unsigned[http.StatusUnauthorized] != clients {
		t.Errorf("unsigned requests: %v, want %d x 401", unsigned, clients)
	}
	// 4 MiB of budget holds 4 bodies of 1 MiB; the rest are refused at
	// once, and the held ones are cut off (400 or a closed connection).
	if signed[http.StatusServiceUnavailable] < clients-4 {
		t.Errorf("plausibly signed requests: %v, want at least %d x 503", signed, clients-4)
	}
	if signed[http.StatusOK] != 0 {
		t.Errorf("an unverifiable request was accepted: %v", signed)
	}
	if tookS > 15*time.Second || tookU > 15*time.Second {
		t.Errorf("trickling clients were held %v and %v, over 15s", tookU, tookS)
	}
	if afterRSS > baseRSS+64<<10 {
		t.Errorf("RSS grew from %d KiB to %d KiB, over 64 MiB", baseRSS, afterRSS)
	}
	healthz(t, opsAddr)
	chatUser(t, p.addr, "after the flood")
	noSecrets(t, p, fakeslack.SigningSecret, fakeslack.BotToken)
}

// trickle posts a Slack event announcing size bytes and sending them one
// per 200 ms; it returns the status, or 0 when the server closed the
// connection without one.
func trickle(t *testing.T, addr string, signed bool, size int) int {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Errorf("dial: %v", err)
		return -1
	}
	defer c.Close()
	hdr := fmt.Sprintf("POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", size)
	if signed {
		ts, sig := fakeslack.Sign("not-the-secret", time.Now(), nil)
		hdr += "X-Slack-Request-Timestamp: " + ts + "\r\nX-Slack-Signature: " + sig + "\r\n"
	}
	if _, err := io.WriteString(c, hdr+"\r\n{"); err != nil {
		return 0
	}
	answer := make(chan int, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answer <- 0
			return
		}
		res.Body.Close()
		answer <- res.StatusCode
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case st := <-answer:
			return st
		case <-tick.C:
			_, _ = io.WriteString(c, " ")
		}
	}
}

// Row 3: a retry of a Telegram update that arrives while the original
// waits on a full inbox is not acknowledged before the original: both get
// the original's fate (here 503, the original never getting room within
// handler_wait), and the update is handled once Telegram sends it again.
// The same for a Slack retry (X-Slack-Retry-Num) of an event whose original
// waits for room.
func TestDuplicateAnsweredAfterItsOriginal(t *testing.T) {
	tg := telegramtest.New(t)
	sl := fakeslack.New(t, fakeslack.Options{})
	hook, slAddr, opsAddr := porttest.Addr(t), porttest.Addr(t), porttest.Addr(t)
	// One message a minute to a chat and an inbox of one: the second
	// message's handler waits for the rate limit, the third fills the
	// inbox, and the fourth waits for room.
	p := startBotserver(t, true, "-config", writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
scopes: {inbox_size: 1}
telegram:
  token: %q
  endpoint: %q
  mode: webhook
  limits: {chat_per_second: 0.0166}
  webhook: {listen: %q, secret_token: %s, handler_wait: 2s}
slack:
  mode: http
  bot_token: %q
  signing_secret: %q
  api_url: %q
  listen: %q
  post_rate: 0.0166
  post_burst: 1
ops: {addr: %q}
routes:
  websocket: {bot: echo}
  telegram: {bot: echo}
  slack: {bot: echo}
`, tg.Token(), tg.Endpoint(), hook, hostileSecret, fakeslack.BotToken, fakeslack.SigningSecret, sl.APIURL, slAddr, opsAddr)))
	awaitReady(t, opsAddr)
	_ = p

	t.Run("telegram", func(t *testing.T) {
		post := func(id int, text string) int {
			b, _ := json.Marshal(map[string]any{"update_id": id, "message": map[string]any{
				"message_id": id, "date": time.Now().Unix(), "text": text,
				"chat": map[string]any{"id": 42, "type": "private"},
				"from": map[string]any{"id": 42, "is_bot": false, "first_name": "Eve"}}})
			req, _ := http.NewRequest(http.MethodPost, "http://"+hook+"/telegram", strings.NewReader(string(b)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hostileSecret)
			res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err != nil {
				t.Errorf("post %d: %v", id, err)
				return 0
			}
			res.Body.Close()
			return res.StatusCode
		}
		if st := post(1, "one"); st != http.StatusOK {
			t.Fatalf("first update: %d", st)
		}
		if err := tg.AwaitSent(1, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		go post(2, "two")   // its handler waits a minute for the chat's rate limit
		go post(3, "three") // fills the inbox
		time.Sleep(300 * time.Millisecond)
		orig := make(chan int, 1)
		go func() { orig <- post(4, "four") }()
		time.Sleep(300 * time.Millisecond) // the original waits for room
		dupAt := time.Now()
		dup := post(4, "four")
		dupTook := time.Since(dupAt)
		o := <-orig
		t.Logf("telegram: original answered %d, duplicate answered %d after %v", o, dup, dupTook.Round(time.Millisecond))
		if o == http.StatusOK {
			t.Fatalf("the original got room after all (%d): the inbox was not full", o)
		}
		if dup != o {
			t.Fatalf("the duplicate answered %d, its original %d: a duplicate takes its original's fate", dup, o)
		}
	})

	t.Run("slack", func(t *testing.T) {
		url := "http://" + slAddr + "/slack/events"
		ch := "CDUP"
		if r, _ := sl.PostEvent(t, url, sl.Message(ch, "U1", "one")); r.Status != http.StatusOK {
			t.Fatalf("first event: %d", r.Status)
		}
		sl.WaitCalls(t, "chat.postMessage", 1)
		go sl.PostEvent(t, url, sl.Message(ch, "U1", "two"))   // waits for the channel's rate limit
		go sl.PostEvent(t, url, sl.Message(ch, "U1", "three")) // fills the inbox
		time.Sleep(300 * time.Millisecond)
		body, id := sl.EventBody(sl.Message(ch, "U1", "four"))
		orig := make(chan int, 1)
		go func() { orig <- sl.PostSigned(t, url, "application/json", body).Status }()
		time.Sleep(300 * time.Millisecond)
		dup := sl.PostSigned(t, url, "application/json", body, fakeslack.AsRetry(1)).Status
		o := <-orig
		t.Logf("slack: event %s: original answered %d, retry answered %d", id, o, dup)
		if o == http.StatusOK {
			t.Fatalf("the original got room after all (%d): the inbox was not full", o)
		}
		if dup == http.StatusOK {
			t.Fatalf("the retry was acknowledged (%d) while its original was refused (%d)", dup, o)
		}
	})
}
