package websocket_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	httpev "github.com/switchboard-bots/switchboard/event/http"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// chunks is an HTTP consumer that answers with how its body arrived.
type chunks struct {
	consumer.Base
	n, size int
}

func (c *chunks) Request(ctx context.Context, r httpev.Request) error {
	c.n++
	c.size += len(r.Body)
	if r.MoreBody {
		return nil
	}
	s := c.Scope()
	body := fmt.Sprintf("%s %s?%s chunks=%d bytes=%d agent=%s", s.Method, s.Path, s.RawQuery, c.n, c.size, s.Headers.Get("User-Agent"))
	if err := c.Send(ctx, httpev.ResponseStart{Status: 201, Headers: map[string][]string{"x-test": {"yes"}}}); err != nil {
		return err
	}
	if err := c.Send(ctx, httpev.ResponseBody{Body: []byte(body[:5]), MoreBody: true}); err != nil {
		return err
	}
	return c.Send(ctx, httpev.ResponseBody{Body: []byte(body[5:])})
}

func httpRoutes() scope.Application {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/upper", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(bytes.ToUpper(b))
	})
	paths := router.NewPathRouter()
	paths.Handle("/chunks", consumer.New(func() *chunks { return new(chunks) }, consumer.On((*chunks).Request)))
	paths.Mount("/api", wsa.Handler(mux))
	return router.ByProtocol(router.Routes{"http": paths})
}

func do(t *testing.T, method, url string, body io.Reader) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "tester")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestHTTPConsumer(t *testing.T) {
	s := start(t, wsa.Config{BodyChunk: 16 << 10}, httpRoutes())
	status, hdr, body := do(t, "GET", s.url+"/chunks?a=1", nil)
	if want := "GET /chunks?a=1 chunks=1 bytes=0 agent=tester"; status != 201 || body != want || hdr.Get("X-Test") != "yes" {
		t.Errorf("got %d %q (x-test %q), want 201 %q", status, body, hdr.Get("X-Test"), want)
	}
	big := strings.Repeat("b", 100_000)
	status, _, body = do(t, "POST", s.url+"/chunks", strings.NewReader(big))
	var n, size int
	if _, err := fmt.Sscanf(body, "POST /chunks? chunks=%d bytes=%d", &n, &size); err != nil || status != 201 {
		t.Fatalf("got %d %q: %v", status, body, err)
	}
	if size != len(big) || n < 100_000/(16<<10) {
		t.Errorf("body came in %d chunks of %d bytes in all, want %d bytes in chunks of 16 KiB at most", n, size, len(big))
	}
}

func TestHTTPBodyLimit(t *testing.T) {
	s := start(t, wsa.Config{MaxBody: 1000}, httpRoutes())
	if status, _, _ := do(t, "POST", s.url+"/chunks", strings.NewReader(strings.Repeat("x", 2000))); status != http.StatusRequestEntityTooLarge {
		t.Errorf("declared length over the limit: status %d, want 413", status)
	}
	// A body of unknown length that turns out too big.
	pr, pw := io.Pipe()
	go func() {
		for range 20 {
			if _, err := pw.Write(make([]byte, 200)); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	defer pr.Close()
	status, _, _ := do(t, "POST", s.url+"/api/upper", pr)
	if status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest {
		t.Errorf("streamed body over the limit: status %d, want 413 (or the handler's 400)", status)
	}
	if status, _, body := do(t, "POST", s.url+"/api/upper", strings.NewReader("small")); status != 200 || body != "SMALL" {
		t.Errorf("after the refusals: %d %q", status, body)
	}
}

func TestHTTPHandlerMounted(t *testing.T) {
	s := start(t, wsa.Config{BodyChunk: 1024}, httpRoutes())
	// A body bigger than a chunk: the handler reads all of it itself.
	in := strings.Repeat("abc", 10_000)
	status, hdr, body := do(t, "POST", s.url+"/api/upper", strings.NewReader(in))
	if status != 200 || body != strings.ToUpper(in) || hdr.Get("Content-Type") != "text/plain" {
		t.Fatalf("got %d %q... (%d bytes)", status, body[:min(len(body), 20)], len(body))
	}
	if status, _, _ := do(t, "GET", s.url+"/api/upper", nil); status != http.StatusMethodNotAllowed {
		t.Errorf("GET on a POST route: %d, want 405 from the mounted mux", status)
	}
	if status, _, _ := do(t, "GET", s.url+"/nothing", nil); status != http.StatusNotFound {
		t.Errorf("no route: %d, want 404", status)
	}
}

func TestChatPageServed(t *testing.T) {
	s := start(t, wsa.Config{PagePath: "/", PageSocket: "/ws/chat/"}, httpRoutes())
	status, hdr, body := do(t, "GET", s.url+"/", nil)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %q", status, hdr.Get("Content-Type"))
	}
	if !strings.Contains(body, `data-socket="/ws/chat/"`) || !strings.Contains(body, "new WebSocket(url, PROTOCOL)") ||
		!strings.Contains(body, `PROTOCOL = "`+wsa.ChatSubprotocol+`"`) {
		t.Errorf("page does not connect to the configured socket:\n%s", body)
	}
}

// TestWebSocketHandlerMounted: an existing gorilla handler, mounted as it
// is, serves its WebSocket beside the adapter's own.
func TestWebSocketHandlerMounted(t *testing.T) {
	upg := gorilla.Upgrader{}
	raw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upg.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, append([]byte("raw: "), m...)); err != nil {
				return
			}
		}
	})
	paths := router.NewPathRouter()
	paths.Handle("/raw", wsa.Handler(raw))
	s := start(t, wsa.Config{}, router.ByProtocol(router.Routes{"websocket": paths}))
	c := s.dial(t, "/raw", nil)
	send(t, c, "hi")
	if got := recv(t, c); got != "raw: hi" {
		t.Fatalf("got %q", got)
	}
	_ = c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""))
	closeCode(t, c)
}
