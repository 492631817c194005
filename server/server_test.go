package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// running is a server's Run: done closes when it returned err.
type running struct {
	done chan struct{}
	err  error
}

func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// start runs a server for yaml until the test ends.
func start(t *testing.T, yaml string, opts ...server.Option) (*server.Server, *running) {
	t.Helper()
	cfg, err := server.Parse("test.yaml", []byte(yaml), env())
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]server.Option{server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	s, err := server.New(cfg, builtin.Registry(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{done: make(chan struct{})}
	go func() { r.err = s.Run(context.Background()); close(r.done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		r.wait(t)
	})
	if ws := s.WebSocket(); ws != nil {
		select {
		case <-ws.Ready():
		case <-r.done:
			t.Fatalf("server stopped: %v", r.err)
		}
	}
	return s, r
}

func dial(t *testing.T, s *server.Server, path string) *gorilla.Conn {
	t.Helper()
	c, resp, err := gorilla.DefaultDialer.Dial(fmt.Sprintf("ws://%s%s", s.WebSocketAddr(), path), nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", path, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *gorilla.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// The routing example of Django Channels' documentation, as a config:
// chat/admin/ and chat/ on WebSocket to two bots, Telegram to the chatty
// bot.
func TestRoutesAsConfigured(t *testing.T) {
	tg := telegramtest.New(t)
	s, done := start(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /chat/}
telegram: {token: %q, endpoint: %q}
routes:
  websocket:
    paths:
      - {path: /chat/admin/, bot: admin}
      - {path: /chat/, bot: wschat}
  telegram: {bot: chatty}
`, tg.Token(), tg.Endpoint()))

	admin := dial(t, s, "/chat/admin/")
	if got := read(t, admin); !strings.HasPrefix(got, "Admin console.") {
		t.Fatalf("admin path answered %q", got)
	}
	chat := dial(t, s, "/chat/")
	if got := read(t, chat); got != "Welcome, Anonymous!" {
		t.Fatalf("chat path answered %q", got)
	}
	if err := chat.WriteMessage(gorilla.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, chat); got != "Anonymous: hello" {
		t.Fatalf("chat answered %q", got)
	}

	tg.Text(4242, 7, "hi bot")
	if err := tg.AwaitSent(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := tg.Texts(4242); len(got) != 1 || got[0] != "You said: hi bot" {
		t.Fatalf("telegram chat got %q", got)
	}

	resp, err := http.Get(fmt.Sprintf("http://%s/", s.WebSocketAddr()))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "/chat/") {
		t.Fatalf("page: %d, %.80q", resp.StatusCode, page)
	}

	// A graceful stop closes WebSockets with 1001 and Run returns nil.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*gorilla.Conn{admin, chat} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := c.ReadMessage()
		if ce, ok := errors.AsType[*gorilla.CloseError](err); !ok || ce.Code != gorilla.CloseGoingAway {
			t.Fatalf("after shutdown: %v, want close 1001", err)
		}
	}
	if err := done.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestNoAdapterIsAnError(t *testing.T) {
	cfg, err := server.Parse("x.yaml", []byte("routes:\n  websocket: {bot: wschat}\n"), env())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.New(cfg, builtin.Registry()); err == nil || !strings.Contains(err.Error(), "no adapter is enabled") {
		t.Fatalf("got %v", err)
	}
}

func TestOpsListener(t *testing.T) {
	s, _ := start(t, `
websocket: {addr: "127.0.0.1:0"}
ops: {addr: "127.0.0.1:0"}
routes:
  websocket: {bot: wschat}
`)
	c := dial(t, s, "/anything/")
	read(t, c)
	if err := c.WriteMessage(gorilla.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	read(t, c)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://%s%s", s.OpsAddr(), path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`switchboard_events_in_total{protocol="websocket",type="websocket.receive"} 1`,
		`switchboard_scopes_live{protocol="websocket"} 1`,
		`switchboard_events_out_total{protocol="websocket",type="websocket.send"} 2`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
