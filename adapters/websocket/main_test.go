package websocket_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait of the tests.
const wait = 10 * time.Second

// server is a running adapter on a loopback port.
type server struct {
	a    *wsa.Adapter
	h    *adapters.Host
	url  string // http://127.0.0.1:port
	done chan error
	once sync.Once
}

// start runs an adapter serving app until the test ends.
func start(t *testing.T, cfg wsa.Config, app scope.Application, opts ...adapters.HostOption) *server {
	t.Helper()
	a, err := wsa.New(cfg, wsa.WithListener(listen(t)))
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, a, app, opts...)
}

// serve runs a serving app until the test ends.
func serve(t testing.TB, a *wsa.Adapter, app scope.Application, opts ...adapters.HostOption) *server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	h := adapters.NewHost(a, append([]adapters.HostOption{adapters.WithLogger(log),
		adapters.WithScopes(a.ScopeConfig(scope.Config{}))}, opts...)...)
	s := &server{a: a, h: h, done: make(chan error, 1)}
	go func() { s.done <- h.Run(context.Background(), app) }()
	select {
	case <-h.Ready():
	case err := <-s.done:
		t.Fatalf("Run: %v", err)
	}
	s.url = "http://" + a.Addr().String()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// stop shuts the adapter down and checks that Run returned ErrStopped.
func (s *server) stop(t testing.TB) {
	t.Helper()
	s.once.Do(func() { s.shutdown(t) })
}

func (s *server) shutdown(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.h.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	select {
	case err := <-s.done:
		if !errors.Is(err, adapters.ErrStopped) {
			t.Errorf("Run returned %v, want ErrStopped", err)
		}
	case <-time.After(wait):
		t.Error("Run did not return after Shutdown")
	}
}

func (s *server) wsURL(path string) string { return "ws" + strings.TrimPrefix(s.url, "http") + path }

// dial opens a WebSocket to path and closes it when the test ends.
func (s *server) dial(t testing.TB, path string, hdr http.Header) *gorilla.Conn {
	t.Helper()
	c, resp, err := gorilla.DefaultDialer.Dial(s.wsURL(path), hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// recv reads one text message within the wait.
func recv(t testing.TB, c *gorilla.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	typ, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != gorilla.TextMessage {
		t.Fatalf("got message type %d, want text", typ)
	}
	return string(data)
}

func send(t testing.TB, c *gorilla.Conn, text string) {
	t.Helper()
	if err := c.WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// closeCode reads until the connection ends and returns the close code the
// server sent, or -1 when it ended without a close frame.
func closeCode(t testing.TB, c *gorilla.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *gorilla.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v", wait)
		}
		return -1
	}
}

// echo is the tests' WebSocket consumer: it answers "echo: <text>", closes
// on "close <code>", and reports its scope and its disconnect event.
type echo struct {
	consumer.WebSocket
	probe *probe
}

type probe struct {
	scopes chan *scope.Scope
	ends   chan websocket.Disconnect
}

func newProbe() *probe {
	return &probe{scopes: make(chan *scope.Scope, 2000), ends: make(chan websocket.Disconnect, 2000)}
}

func (e *echo) Connect(ctx context.Context, _ websocket.Connect) error {
	e.probe.scopes <- e.Scope()
	if q := e.Scope().RawQuery; q == "reject" {
		return e.Close(ctx, 0)
	}
	sub := ""
	if len(e.Scope().Subprotocols) > 0 {
		sub = e.Scope().Subprotocols[len(e.Scope().Subprotocols)-1]
	}
	return e.Accept(ctx, sub)
}

func (e *echo) Receive(ctx context.Context, m websocket.Receive) error {
	switch {
	case m.Text == "fail":
		return errors.New("asked to fail")
	case strings.HasPrefix(m.Text, "close"):
		return e.Close(ctx, 4000)
	case !m.IsText():
		return e.SendBytes(ctx, m.Bytes)
	}
	return e.SendText(ctx, "echo: "+m.Text)
}

func (e *echo) Disconnect(_ context.Context, d websocket.Disconnect) error {
	e.probe.ends <- d
	return nil
}

func (p *probe) app() *consumer.Type[*echo] {
	return consumer.New(func() *echo { return &echo{probe: p} },
		consumer.On((*echo).Connect), consumer.On((*echo).Receive), consumer.On((*echo).Disconnect))
}

func (p *probe) end(t testing.TB) websocket.Disconnect {
	t.Helper()
	select {
	case d := <-p.ends:
		return d
	case <-time.After(wait):
		t.Fatal("no websocket.disconnect within the wait")
		return websocket.Disconnect{}
	}
}

func (p *probe) scope(t testing.TB) *scope.Scope {
	t.Helper()
	select {
	case s := <-p.scopes:
		return s
	case <-time.After(wait):
		t.Fatal("no websocket.connect within the wait")
		return nil
	}
}

// routes serves the echo consumer at /ws/ over the protocol router.
func routes(p *probe) scope.Application {
	ws := router.NewPathRouter()
	ws.Handle("/ws/", p.app())
	return router.ByProtocol(router.Routes{"websocket": ws})
}
