package websocket_test

import (
	"net"
	"net/http"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestEchoAndScope(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	hdr := http.Header{"Cookie": {"session=abc; theme=dark"}, "Sec-Websocket-Protocol": {"v1, v2"}}
	c, resp, err := gorilla.DefaultDialer.Dial(s.wsURL("/ws/?room=lobby"), hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := resp.Header.Get("Sec-Websocket-Protocol"); got != "v2" {
		t.Errorf("subprotocol %q, want v2", got)
	}
	sc := p.scope(t)
	if sc.Type != wsa.TypeWebSocket || sc.Adapter != "websocket" || sc.Key == "" {
		t.Errorf("scope type/adapter/key = %q/%q/%q", sc.Type, sc.Adapter, sc.Key)
	}
	if sc.Path != "/ws/" || sc.RawQuery != "room=lobby" || sc.Method != http.MethodGet {
		t.Errorf("scope path/query/method = %q/%q/%q", sc.Path, sc.RawQuery, sc.Method)
	}
	if len(sc.Subprotocols) != 2 || sc.Subprotocols[0] != "v1" {
		t.Errorf("subprotocols %q", sc.Subprotocols)
	}
	if v, ok := wsa.Cookie(sc, "theme"); !ok || v != "dark" {
		t.Errorf("cookie theme = %q, %v", v, ok)
	}
	if sc.ClientAddr != c.LocalAddr().String() || sc.ServerAddr != c.RemoteAddr().String() {
		t.Errorf("client/server addr %q/%q, want %q/%q", sc.ClientAddr, sc.ServerAddr, c.LocalAddr(), c.RemoteAddr())
	}
	for i := range 3 {
		send(t, c, "hi "+string(rune('a'+i)))
		if got, want := recv(t, c), "echo: hi "+string(rune('a'+i)); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if err := c.WriteMessage(gorilla.BinaryMessage, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	typ, data, err := c.ReadMessage()
	if err != nil || typ != gorilla.BinaryMessage || string(data) != "\x00\x01\x02" {
		t.Fatalf("binary echo: %d %q %v", typ, data, err)
	}
	_ = c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(4321, "bye"))
	if d := p.end(t); d.Code != 4321 || d.Reason != scope.ReasonClosed {
		t.Errorf("disconnect %+v, want code 4321 reason closed", d)
	}
}

func TestRejectBeforeAccept(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	_, resp, err := gorilla.DefaultDialer.Dial(s.wsURL("/ws/?reject"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial: %v, response %v; want 403", err, resp)
	}
	// No route: the router refuses the scope, the client gets 403.
	_, resp, err = gorilla.DefaultDialer.Dial(s.wsURL("/nowhere/"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial: %v, response %v; want 403", err, resp)
	}
	// The server still serves.
	c := s.dial(t, "/ws/", nil)
	send(t, c, "still here")
	if got := recv(t, c); got != "echo: still here" {
		t.Fatalf("got %q", got)
	}
}

func TestServerClose(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	c := s.dial(t, "/ws/", nil)
	send(t, c, "close")
	if code := closeCode(t, c); code != 4000 {
		t.Fatalf("close code %d, want 4000", code)
	}
	if d := p.end(t); d.Code != 4000 {
		t.Errorf("disconnect code %d, want 4000", d.Code)
	}
}

func TestFailingConsumerCloses1011(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	c := s.dial(t, "/ws/", nil)
	send(t, c, "fail")
	if code := closeCode(t, c); code != websocket.CloseInternalError {
		t.Fatalf("close code %d, want 1011", code)
	}
	if d := p.end(t); d.Reason != scope.ReasonError {
		t.Errorf("disconnect %+v, want reason error", d)
	}
}

func TestAbruptClose(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	other := s.dial(t, "/ws/", nil)
	c := s.dial(t, "/ws/", nil)
	send(t, c, "x")
	recv(t, c)
	// Drop the TCP connection without a close frame, with a reset.
	tcp := c.NetConn().(*net.TCPConn)
	_ = tcp.SetLinger(0)
	_ = tcp.Close()
	if d := p.end(t); d.Code != websocket.CloseAbnormal || d.Reason != scope.ReasonClosed {
		t.Errorf("disconnect %+v, want 1006 closed", d)
	}
	send(t, other, "unaffected")
	if got := recv(t, other); got != "echo: unaffected" {
		t.Fatalf("other connection got %q", got)
	}
}

func TestOrigin(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{AllowedOrigins: []string{"https://app.example.com", "*.trusted.test"}}, routes(p))
	host := strings.TrimPrefix(s.url, "http://")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"https://app.example.com", true},
		{"https://chat.trusted.test", true},
		{"https://evil.example.com", false},
		{"http://localhost:1", false},
		{"null", false},
	} {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		c, resp, err := gorilla.DefaultDialer.Dial(s.wsURL("/ws/"), hdr)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			c.Close()
			p.end(t)
			continue
		}
		if err == nil {
			c.Close()
			t.Errorf("origin %q allowed", tc.origin)
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", tc.origin, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, cfg := range []wsa.Config{
		{Addr: "nope"},
		{ReadLimit: -1},
		{TrustedProxies: []string{"10.0.0.0/33"}},
		{PagePath: "chat"},
		{WriteTimeout: -1},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", cfg)
		}
		if _, err := wsa.New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
	if err := (wsa.Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
}
