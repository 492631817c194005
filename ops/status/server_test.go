package status_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/consumer"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/ops/status"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// stuck is a WebSocket bot whose handler blocks until released: the
// handler the page must list as running long.
type stuck struct {
	consumer.WebSocket
	release <-chan struct{}
}

func (b *stuck) Receive(ctx context.Context, _ wsevent.Receive) error {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}

// runServer runs a server until the test ends: WebSocket on loopback
// (wschat at /chat/, a bot whose handler is stuck until the test ends at
// /stuck/), Telegram against the fake Bot API (the echo bot), and the ops
// listener with a slow-handler threshold of a second.
func runServer(t *testing.T) (*server.Server, *telegramtest.Server) {
	t.Helper()
	tg := telegramtest.New(t)
	release := make(chan struct{})
	reg := builtin.Registry()
	reg.Register("stuck", func(server.Deps) (scope.Application, error) {
		return consumer.New(func() *stuck { return &stuck{release: release} }, consumer.On((*stuck).Receive)), nil
	})
	cfg, err := server.Parse("status.yaml", []byte(fmt.Sprintf(`
websocket:
  addr: "127.0.0.1:0"
  scopes: {max_scopes: 50}
telegram:
  token: %q
  endpoint: %q
  limits: {global_per_second: 1000, chat_per_second: 100}  # no handler waits for a rate limit
  scopes: {max_scopes: 100}
ops: {addr: "127.0.0.1:0", slow_handler: 1s}
routes:
  websocket:
    paths:
      - {path: /stuck/, bot: stuck}
      - {path: /chat/, bot: wschat}
  telegram: {bot: echo}
`, tg.Token(), tg.Endpoint())), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, reg, server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.WebSocket().Ready():
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	}
	// Released first (cleanups run last first), so that shutdown finds
	// the stuck handler gone.
	t.Cleanup(func() { close(release) })

	return s, tg
}

// TestStatusOnTheOpsListener: a server serves the page and its JSON on
// its ops listener, next to /metrics, with its adapters and the traffic
// they carried.
func TestStatusOnTheOpsListener(t *testing.T) {
	s, _ := runServer(t)
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+s.WebSocketAddr().String()+"/chat/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(gorilla.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	ops := "http://" + s.OpsAddr().String()
	if page := get(t, ops+status.PagePath); !strings.Contains(page, "<title>Switchboard status</title>") {
		t.Fatalf("%s: %.200s", status.PagePath, page)
	}
	if m := get(t, ops+"/metrics"); !strings.Contains(m, "switchboard_events_in_total") {
		t.Fatalf("/metrics no longer served: %.200s", m)
	}
	// The page samples once a second: wait for a sample that saw the
	// message (connect and receive).
	deadline := time.Now().Add(10 * time.Second)
	for {
		var snap status.Snapshot
		if err := json.Unmarshal([]byte(get(t, ops+status.JSONPath)), &snap); err != nil {
			t.Fatal(err)
		}
		names := map[string]status.AdapterState{}
		for _, a := range snap.Adapters {
			names[a.Name] = a
		}
		ws, ok := names["websocket"]
		if ok && ws.In >= 2 && ws.Out >= 2 && ws.Scopes == 1 && ws.MaxScopes == 50 && names["telegram"].MaxScopes == 100 {
			if ws.Kind != "websocket" || !strings.HasPrefix(ws.Detail, "listening on 127.0.0.1:") || snap.Layer.Backend != "memory" {
				t.Fatalf("websocket %+v, layer %+v", ws, snap.Layer)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status.json never showed the message: %+v", snap.Adapters)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
