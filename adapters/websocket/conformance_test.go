package websocket_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// clients are the kit's platform for the WebSocket adapter: browsers, one
// WebSocket connection per conversation, opened at its first message. The
// kit's chat application fits a connection as it is: consumer.Chat
// accepts websocket.connect, a text frame is a chat message and a reply
// is a text frame.
//
// The adapter sends chat.say as a text frame (SayPlatform). The other
// capabilities do not apply to a WebSocket server:
//   - PushPlatform: a conversation is a connection, which exists only
//     while its scope lives, under a key the adapter makes up; there is
//     nothing to push to without a scope (groups are how a worker reaches
//     connections).
//   - RefusePlatform: a client cannot refuse a frame; a send queues it,
//     and a client too slow to take it is disconnected (1013), which ends
//     the conversation (TestSlowClientIsDisconnected).
//   - AckPlatform: the protocol has no acknowledgement of a message; a
//     frame read is gone, whatever becomes of its handler.
//   - DropPlatform: the server holds no connection of its own to restore;
//     a client's dropped connection ends its scope (1006,
//     TestDeadPeerIsDropped), and a client that reconnects starts a new
//     conversation.
type clients struct {
	url, addr string
	replies   chan [2]string

	mu      sync.Mutex
	conns   map[string]*gorilla.Conn
	readers sync.WaitGroup
}

var _ adaptertest.SayPlatform = (*clients)(nil)

func (c *clients) SaysChat() {}

// conn returns conv's connection, opening it on first use; a goroutine
// reads its replies until it closes.
func (c *clients) conn(t testing.TB, conv string) *gorilla.Conn {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ws := c.conns[conv]; ws != nil {
		return ws
	}
	ws, _, err := gorilla.DefaultDialer.Dial(c.url, nil)
	if err != nil {
		t.Fatalf("dial for conversation %s: %v", conv, err)
	}
	c.conns[conv] = ws
	c.readers.Go(func() {
		for {
			typ, data, err := ws.ReadMessage()
			if err != nil {
				return // closed; gorilla answered a close frame
			}
			if typ == gorilla.TextMessage {
				c.replies <- [2]string{conv, string(data)}
			}
		}
	})
	return ws
}

func (c *clients) Say(t testing.TB, conv, text string) {
	t.Helper()
	if err := c.conn(t, conv).WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
		t.Fatalf("write to conversation %s: %v", conv, err)
	}
}

func (c *clients) Reply(t testing.TB) (string, string) {
	t.Helper()
	select {
	case r := <-c.replies:
		return r[0], r[1]
	case <-time.After(adaptertest.Timeout):
		t.Fatal("no frame from the server within the timeout")
		return "", ""
	}
}

// SayBad sends what must be refused before any scope exists, so that the
// kit's application sees nothing of it: bytes that are not HTTP, and a
// handshake from a page of another origin.
func (c *clients) SayBad(t testing.TB) {
	t.Helper()
	raw, err := net.Dial("tcp", c.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := io.WriteString(raw, "\x16\x03\x01 not HTTP at all\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(adaptertest.Timeout))
	if resp, err := http.ReadResponse(bufio.NewReader(raw), nil); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bytes that are not HTTP: %v %v, want 400", resp, err)
	}
	ws, resp, err := gorilla.DefaultDialer.Dial(c.url, http.Header{"Origin": {"https://evil.example"}})
	if err == nil {
		ws.Close()
		t.Fatal("a handshake from a foreign origin was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a handshake from a foreign origin: %v, want 403", err)
	}
}

// close closes every client connection and waits for their readers.
func (c *clients) close() {
	c.mu.Lock()
	for _, ws := range c.conns {
		_ = ws.Close()
	}
	c.mu.Unlock()
	c.readers.Wait()
}

func conformanceHarness(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
	ln := listen(t)
	a, err := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	c := &clients{url: "ws://" + addr + "/chat", addr: addr, replies: make(chan [2]string, 1000),
		conns: map[string]*gorilla.Conn{}}
	t.Cleanup(c.close)
	// The kit's cfg as it is, not a.ScopeConfig(cfg): the kit checks that
	// an idle timeout, when one is set, ends the scope.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return adapters.NewHost(a, adapters.WithScopes(cfg), adapters.WithLogger(log)), c
}

func TestConformance(t *testing.T) { adaptertest.Run(t, conformanceHarness) }
