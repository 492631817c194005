package websocket_test

import (
	"bytes"
	"compress/flate"
	"net"
	"net/http"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// deflated returns the size of data compressed as permessage-deflate
// sends it, to show that a message is small on the wire.
func deflated(t *testing.T, data []byte) int {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write(data)
	_ = w.Flush()
	return b.Len()
}

// A compressed message that is small on the wire but inflates beyond
// read_limit closes the connection with 1009 and is never delivered; one
// that inflates to no more than the limit is.
func TestCompressedMessageInflatingPastReadLimit(t *testing.T) {
	const limit = 4096
	p := newProbe()
	s := start(t, wsa.Config{ReadLimit: limit, Compression: true}, routes(p))
	other := s.dial(t, "/ws/", nil)
	d := gorilla.Dialer{EnableCompression: true}
	c, resp, err := d.Dial(s.wsURL("/ws/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ext := resp.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("compression not negotiated: %q", ext)
	}
	c.EnableWriteCompression(true)
	_ = c.SetCompressionLevel(flate.BestCompression)

	fits := bytes.Repeat([]byte("x"), limit)
	if err := c.WriteMessage(gorilla.BinaryMessage, fits); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, fits) {
		t.Fatalf("a message at the limit once inflated: %d bytes, %v", len(got), err)
	}

	bomb := make([]byte, 1<<20)
	if n := deflated(t, bomb); n >= limit {
		t.Fatalf("the bomb is %d bytes on the wire; it must be under the limit to test the inflated bound", n)
	}
	if err := c.WriteMessage(gorilla.BinaryMessage, bomb); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, c); code != websocket.CloseTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	if d := p.end(t); d.Code != websocket.CloseTooBig {
		t.Errorf("disconnect code %d, want 1009", d.Code)
	}
	send(t, other, "ok")
	if got := recv(t, other); got != "echo: ok" {
		t.Fatalf("other connection got %q", got)
	}
}

// At max_scopes a new WebSocket is refused with 503 before the upgrade,
// and the quiet connections already open stay open; once one closes, a
// new connection takes its place.
func TestConnectionAtMaxScopesRefusedNotEvicting(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p), adapters.WithScopes(scope.Config{MaxScopes: 2}))
	quiet := []*gorilla.Conn{s.dial(t, "/ws/", nil), s.dial(t, "/ws/", nil)}
	for range quiet {
		p.scope(t)
	}
	for range 3 {
		c, resp, err := gorilla.DefaultDialer.Dial(s.wsURL("/ws/"), nil)
		if err == nil {
			c.Close()
			t.Fatal("a connection over max_scopes was accepted")
		}
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("over max_scopes: %v (response %v), want 503 with Retry-After", err, resp)
		}
	}
	for i, c := range quiet {
		send(t, c, "still here")
		if got := recv(t, c); got != "echo: still here" {
			t.Fatalf("quiet connection %d got %q", i, got)
		}
	}
	select {
	case d := <-p.ends:
		t.Fatalf("a connection ended: %+v", d)
	default:
	}
	_ = quiet[0].WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(websocket.CloseNormal, ""))
	closeCode(t, quiet[0])
	p.end(t)
	send(t, s.dial(t, "/ws/", nil), "in")
}

// The origin check does not believe the Host header: a rebound name whose
// Origin agrees with Host is refused, while the names the listener is
// known by are allowed.
func TestOriginNotTakenFromHost(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
	for _, tc := range []struct {
		host, origin string
		ok           bool
	}{
		{"evil.example:" + port, "http://evil.example:" + port, false},
		{"evil.example", "http://evil.example", false},
		{"localhost:" + port, "http://localhost:" + port, true},
		{"127.0.0.1:" + port, "http://127.0.0.1:" + port, true},
		{"evil.example:" + port, "http://localhost:" + port, true}, // the page is ours; the Host header is irrelevant
		{"localhost:" + port, "http://localhost:1" + port, false},
	} {
		hdr := http.Header{"Host": {tc.host}, "Origin": {tc.origin}}
		c, resp, err := gorilla.DefaultDialer.Dial(s.wsURL("/ws/"), hdr)
		if tc.ok {
			if err != nil {
				t.Errorf("Host %s, Origin %s refused: %v", tc.host, tc.origin, err)
				continue
			}
			c.Close()
			p.end(t)
			continue
		}
		if err == nil {
			c.Close()
			t.Errorf("Host %s, Origin %s allowed", tc.host, tc.origin)
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("Host %s, Origin %s: %v, want 403", tc.host, tc.origin, err)
		}
	}
}

// A listener on every interface knows no name of its own: a page loaded
// by address connects (an address origin cannot be rebound), a page loaded
// by a name only when the name is allowed.
func TestOriginOnWildcardListener(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on every interface: %v", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	a, err := wsa.New(wsa.Config{AllowedOrigins: []string{"http://chat.example:" + port}}, wsa.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe()
	serve(t, a, routes(p))
	url := "ws://127.0.0.1:" + port + "/ws/"
	for _, tc := range []struct {
		host, origin string
		ok           bool
	}{
		{"127.0.0.1:" + port, "http://127.0.0.1:" + port, true},
		{"localhost:" + port, "http://localhost:" + port, true},
		{"chat.example:" + port, "http://chat.example:" + port, true},
		{"evil.example:" + port, "http://evil.example:" + port, false},
		{"10.1.2.3:" + port, "http://127.0.0.1:" + port, true},
		{"10.1.2.3:" + port, "http://10.9.9.9:" + port, false},
	} {
		c, resp, err := gorilla.DefaultDialer.Dial(url, http.Header{"Host": {tc.host}, "Origin": {tc.origin}})
		switch {
		case tc.ok && err != nil:
			t.Errorf("Host %s, Origin %s refused: %v", tc.host, tc.origin, err)
		case tc.ok:
			c.Close()
			p.end(t)
		case err == nil:
			c.Close()
			t.Errorf("Host %s, Origin %s allowed", tc.host, tc.origin)
		case resp == nil || resp.StatusCode != http.StatusForbidden:
			t.Errorf("Host %s, Origin %s: %v, want 403", tc.host, tc.origin, err)
		}
	}
}

// The chat page may connect to its own host only.
func TestChatPagePolicy(t *testing.T) {
	s := start(t, wsa.Config{PagePath: "/", PageSocket: "/ws/chat/"}, httpRoutes())
	host := strings.TrimPrefix(s.url, "http://")
	_, hdr, _ := do(t, "GET", s.url+"/", nil)
	csp := hdr.Get("Content-Security-Policy")
	want := "connect-src 'self' ws://" + host + " wss://" + host
	if !strings.HasSuffix(csp, want) {
		t.Fatalf("policy %q, want it to end with %q", csp, want)
	}
	if strings.Contains(csp, " ws: ") || strings.HasSuffix(csp, " wss:") {
		t.Fatalf("policy %q lets the page connect to any host", csp)
	}

	req, _ := http.NewRequest("GET", s.url+"/", nil)
	req.Host = "x;script-src*"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(got, "connect-src 'self'") {
		t.Fatalf("a Host header made of policy syntax reached the policy: %q", got)
	}
}
