package djangochat_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/internal/porttest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// The Django Channels tutorial's chat, unchanged (testdata/mysite: its
// chat/consumers.py, chat/routing.py and mysite/asgi.py, with settings
// that put CHANNEL_LAYERS on channels_redis), runs under Debian's daphne;
// a WebSocket client talks in its room "lobby" as the tutorial's page
// does, and a Telegram user joins the room through the bot. Each hears
// the other.
func TestDjangoTutorialChat(t *testing.T) {
	needDjango(t)
	url, prefix := sharedRedis(t)
	talk(t, []string{url}, prefix, redis.Config{URL: url, Prefix: prefix})
}

// The same over two Redis servers, sharded by both sides: the Go layer
// places groups and channels as channels_redis does (CRC32).
func TestDjangoTutorialChatOnShards(t *testing.T) {
	needDjango(t)
	shards := []string{startRedis(t), startRedis(t)}
	prefix := "asgi"
	talk(t, shards, prefix, redis.Config{Mode: redis.ModeShards, Shards: shards, Prefix: prefix})
}

// talk runs the tutorial's site on hosts and the bot on a layer made with
// cfg, and has a Django user and a Telegram user talk in one room.
func talk(t *testing.T, hosts []string, prefix string, cfg redis.Config) {
	t.Helper()
	addr := daphne(t, hosts, prefix)
	l, err := redis.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() }) // after the bot's shutdown, which leaves the room
	srv, _ := telegramChat(t, l)

	// The tutorial's page: ws/chat/<room>/, JSON frames {"message": ...},
	// from a page of the site (AllowedHostsOriginValidator).
	web, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/ws/chat/lobby/", http.Header{"Origin": {"http://" + addr}})
	if err != nil {
		t.Fatalf("the tutorial's chat: %v", err)
	}
	defer web.Close()
	if got := said(t, srv, "/join lobby"); !strings.HasPrefix(got, "You are in room lobby") {
		t.Fatalf("join: %q", got)
	}

	// Telegram → Django.
	srv.Text(chat, chat, "hello from telegram")
	if got := readMessage(t, web); got != "user1: hello from telegram" {
		t.Fatalf("the Django page got %q", got)
	}

	// Django → Telegram. The page hears itself too, as the tutorial's do.
	n := len(srv.Texts(chat))
	if err := web.WriteJSON(map[string]string{"message": "hello from django"}); err != nil {
		t.Fatal(err)
	}
	if got := awaitText(t, srv, n); got != "hello from django" {
		t.Fatalf("the Telegram chat got %q", got)
	}
	if got := readMessage(t, web); got != "hello from django" {
		t.Fatalf("the Django page got %q", got)
	}
}

// readMessage returns the "message" of the tutorial page's next frame.
func readMessage(t *testing.T, c *gorilla.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var m struct {
		Message string `json:"message"`
	}
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("the Django page: %v", err)
	}
	return m.Message
}

// python is Debian's interpreter, which sees Debian's Django packages;
// another python3 earlier on PATH would not.
const python = "/usr/bin/python3"

func needDjango(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("daphne"); err != nil {
		t.Skip("SKIPPING the Django Channels test: no daphne; install it with: apt-get install -y daphne python3-django python3-channels-redis")
	}
	if out, err := exec.Command(python, "-c", "import django, channels, channels_redis.core").CombinedOutput(); err != nil {
		t.Skipf("SKIPPING the Django Channels test: %s cannot import django, channels and channels_redis (%v: %s); "+
			"install them with: apt-get install -y daphne python3-django python3-channels-redis", python, err, out)
	}
}

// daphne serves the tutorial's site on a free loopback port with its
// channel layer on hosts under prefix, until the test ends, and returns
// its address once it accepts connections.
func daphne(t *testing.T, hosts []string, prefix string) string {
	t.Helper()
	site, err := filepath.Abs("testdata/mysite")
	if err != nil {
		t.Fatal(err)
	}
	addr := porttest.Addr(t)
	host, port, _ := net.SplitHostPort(addr)
	hostsJSON, _ := json.Marshal(hosts)
	cmd := exec.Command("daphne", "-b", host, "-p", port, "mysite.asgi:application")
	cmd.Dir = site
	cmd.Env = append(os.Environ(),
		"PYTHONDONTWRITEBYTECODE=1", // keep the source tree clean
		"SWITCHBOARD_CHANNEL_HOSTS="+string(hostsJSON),
		"SWITCHBOARD_CHANNEL_PREFIX="+prefix)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("daphne's output:\n%s", out.String())
		}
	})
	awaitListening(t, addr, exited, &out)
	return addr
}

// awaitListening polls addr until it accepts a connection, failing t if
// the server exits first or nothing listens within 30 s.
func awaitListening(t *testing.T, addr string, exited <-chan error, out *syncBuffer) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("daphne exited before listening on %s: %v\n%s", addr, err, out.String())
		case <-deadline:
			t.Fatalf("daphne does not listen on %s after 30s:\n%s", addr, out.String())
		case <-tick.C:
		}
	}
}

// startRedis runs a redis-server of the test's own on a free loopback
// port, without persistence, until the test ends, and returns its URL.
func startRedis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	addr := porttest.Addr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	awaitListening(t, addr, exited, &out)
	return "redis://" + addr + "/0"
}

// sharedRedis returns the URL of the Redis the tests share and a key
// prefix of the test's own, whose keys are deleted when the test ends.
func sharedRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	url = redistest.URL(t)
	return url, redistest.Prefix(t, url)
}

// syncBuffer keeps the first MiB a child process writes, safe to read
// while it writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 1<<20 {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
