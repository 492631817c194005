package main_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// proc is a running botserver.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout chan string
	addr   string // the WebSocket adapter's, when it listens
	logs   *strings.Builder
	mu     *sync.Mutex
}

var listening = regexp.MustCompile(`listening on (\S+);`)

// startBotserver runs the binary with args and waits until it listens
// (when waitListen) or has started.
func startBotserver(t *testing.T, waitListen bool, args ...string) *proc {
	t.Helper()
	return startProgram(t, binary, waitListen, args...)
}

// startProgram runs bin, a botserver built by the test, with args and
// waits until it listens (when waitListen) or has started.
func startProgram(t *testing.T, bin string, waitListen bool, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdin: stdin, stdout: make(chan string, 1000), logs: &strings.Builder{}, mu: &sync.Mutex{}}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("botserver %v logged:\n%s", args, p.logs.String())
			p.mu.Unlock()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.stdout <- sc.Text()
		}
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	if waitListen {
		select {
		case p.addr = <-addr:
		case <-time.After(15 * time.Second):
			t.Fatal("botserver never said where it listens")
		}
	}
	return p
}

func (p *proc) expectLine(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-p.stdout:
		if got != want {
			t.Fatalf("stdout %q, want %q", got, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("stdout never showed %q", want)
	}
}

func wsDial(t *testing.T, addr, path string) *gorilla.Conn {
	t.Helper()
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+path, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wsRead(t *testing.T, c *gorilla.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// The routing example of Django Channels' documentation as a config file:
// chat/admin/ and chat/ on WebSocket to two bots, Telegram to the chatty
// bot, served by the real binary.
func TestRoutingExample(t *testing.T) {
	tg := telegramtest.New(t)
	cfg := writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
telegram: {token: %q, endpoint: %q}
routes:
  websocket:
    paths:
      - {path: /chat/admin/, bot: admin}
      - {path: /chat/, bot: wschat}
  telegram: {bot: chatty}
`, tg.Token(), tg.Endpoint()))
	p := startBotserver(t, true, "-config", cfg)

	if got := wsRead(t, wsDial(t, p.addr, "/chat/admin/")); !strings.HasPrefix(got, "Admin console.") {
		t.Fatalf("admin path answered %q", got)
	}
	chat := wsDial(t, p.addr, "/chat/")
	if got := wsRead(t, chat); got != "Welcome, Anonymous!" {
		t.Fatalf("chat path answered %q", got)
	}
	tg.Text(777, 7, "hello bot")
	if err := tg.AwaitSent(1, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := tg.Texts(777); len(got) != 1 || got[0] != "You said: hello bot" {
		t.Fatalf("telegram got %q", got)
	}
}

// A worker process answers a job that a bot in another process sent it,
// through a shared Redis layer.
func TestWorkerProcess(t *testing.T) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	layerYAML := "layer: {backend: redis, redis: {prefix: sbe2e" + hex.EncodeToString(b) + "}}\n"
	bot := startBotserver(t, false, "-config", writeConfig(t, layerYAML+"console: {}\nroutes:\n  console: {bot: report}\n"))
	startBotserver(t, false, "worker", "-config",
		writeConfig(t, layerYAML+"routes:\n  channel:\n    channels:\n      report.jobs: {bot: report-worker}\n"), "report.jobs")

	if _, err := io.WriteString(bot.stdin, "@ada /report mountains\n"); err != nil {
		t.Fatal(err)
	}
	bot.expectLine(t, "[ada] Working on a report on mountains...")
	bot.expectLine(t, "[ada] Report #1 on mountains: 9 letters, all in order.")
}

// SIGTERM while 1,000 WebSocket clients chat: every client gets close code
// 1001 and the process exits 0 within the grace period.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 4096 {
		lim.Cur = min(lim.Max, 4096)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	p := startBotserver(t, true, "-config", writeConfig(t, `
websocket: {addr: "127.0.0.1:0"}
routes:
  websocket: {bot: wschat}
shutdown: {grace: 20s}
`))
	const n = 1000
	conns := make([]*gorilla.Conn, n)
	for i := range conns {
		conns[i] = wsDial(t, p.addr, "/chat/")
		if got := wsRead(t, conns[i]); got != "Welcome, Anonymous!" {
			t.Fatalf("client %d: %q", i, got)
		}
	}
	chatted := make(chan struct{}, n)
	codes := make(chan int, n)
	for i, c := range conns {
		go func() {
			first := true
			for {
				if err := c.WriteMessage(gorilla.TextMessage, []byte(fmt.Sprint("hi ", i))); err != nil {
					break // the server is closing: the close frame is still to be read
				}
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, _, err := c.ReadMessage(); err != nil {
					codes <- closeCode(err)
					return
				}
				if first {
					chatted <- struct{}{}
					first = false
				}
			}
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					codes <- closeCode(err)
					return
				}
			}
		}()
	}
	for range n {
		select {
		case <-chatted:
		case <-time.After(60 * time.Second):
			t.Fatal("clients did not all chat")
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	bad := map[int]int{}
	for range n {
		if code := <-codes; code != gorilla.CloseGoingAway {
			bad[code]++
		}
	}
	if len(bad) > 0 {
		t.Fatalf("close codes other than 1001: %v (code: clients)", bad)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v, want 0", err)
	}
}

func closeCode(err error) int {
	if ce, ok := errors.AsType[*gorilla.CloseError](err); ok {
		return ce.Code
	}
	return -1
}
