package adapters

import (
	"bufio"
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

	"github.com/switchboard-bots/switchboard/internal/logtest"
)

// refusals is a ListenObserver that counts refusals by reason.
type refusals struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *refusals) OutboundRetry(string)                {}
func (r *refusals) RateLimitWait(string, time.Duration) {}
func (r *refusals) ListenRefused(adapter, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[adapter+"/"+reason]++
}

func (r *refusals) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[key]
}

var _ ListenObserver = (*refusals)(nil)

// dialFrom connects to addr from the loopback address from.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// get sends one keep-alive request on c and returns the status.
func get(t *testing.T, c net.Conn, br *bufio.Reader) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// refusedWith503 reads what a refused connection gets: a 503, then EOF.
func refusedWith503(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("refused connection: %v", err)
	}
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("refused connection answered %d", res.StatusCode)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), "too many connections") {
		t.Fatalf("refusal body %q", body)
	}
}

func serveBounded(t *testing.T, cfg ListenConfig, h http.Handler, opts ...ListenOption) *HTTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewHTTPServer(ln, h, cfg, opts...)
	done := make(chan struct{})
	go func() { _ = s.Serve(); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return s
}

var ok200 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func TestListenerCaps(t *testing.T) {
	obs := &refusals{}
	s := serveBounded(t, ListenConfig{MaxConns: 3, MaxConnsPerClient: 2}, ok200,
		ListenReport(NewReport(obs, "web")))
	addr := s.Addr().String()

	a1 := dialFrom(t, "127.0.0.1", addr)
	a2 := dialFrom(t, "127.0.0.1", addr)
	for _, c := range []net.Conn{a1, a2} {
		if st := get(t, c, bufio.NewReader(c)); st != http.StatusOK {
			t.Fatalf("connection within the caps answered %d", st)
		}
	}
	refusedWith503(t, dialFrom(t, "127.0.0.1", addr)) // third from one client
	b1 := dialFrom(t, "127.0.0.2", addr)
	if st := get(t, b1, bufio.NewReader(b1)); st != http.StatusOK {
		t.Fatalf("another client answered %d", st)
	}
	refusedWith503(t, dialFrom(t, "127.0.0.2", addr)) // fourth in all
	if got := obs.count("web/" + ReasonMaxConnsPerClient); got != 1 {
		t.Errorf("max_conns_per_client refusals = %d, want 1", got)
	}
	if got := obs.count("web/" + ReasonMaxConns); got != 1 {
		t.Errorf("max_conns refusals = %d, want 1", got)
	}
	if n := s.Open(); n != 3 {
		t.Errorf("Open() = %d, want 3", n)
	}

	// A closed connection makes room.
	_ = a1.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Open() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("Open() = %d after a close, want 2", s.Open())
		}
		time.Sleep(5 * time.Millisecond) // the server notices the close on its own goroutine
	}
	a3 := dialFrom(t, "127.0.0.1", addr)
	if st := get(t, a3, bufio.NewReader(a3)); st != http.StatusOK {
		t.Fatalf("connection after a close answered %d", st)
	}
}

func TestListenerLogsRefusalsRateLimited(t *testing.T) {
	var buf logtest.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := serveBounded(t, ListenConfig{MaxConns: 1}, ok200, ListenLogger(log), ListenName("hooks"), listenClock(clock))
	addr := s.Addr().String()
	keep := dialFrom(t, "127.0.0.1", addr)
	_ = get(t, keep, bufio.NewReader(keep))
	for range 3 {
		refusedWith503(t, dialFrom(t, "127.0.0.1", addr))
	}
	if n := strings.Count(buf.String(), "connections refused"); n != 1 {
		t.Fatalf("%d log lines for 3 refusals within the window, want 1:\n%s", n, buf.String())
	}
	mu.Lock()
	now = now.Add(refusalLogEvery)
	mu.Unlock()
	refusedWith503(t, dialFrom(t, "127.0.0.1", addr))
	out := buf.String()
	if n := strings.Count(out, "connections refused"); n != 2 {
		t.Fatalf("%d log lines after the window, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "listener=hooks") || !strings.Contains(out, "reason=max_conns") {
		t.Fatalf("log line names neither listener nor reason:\n%s", out)
	}
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

func TestServerTimeouts(t *testing.T) {
	cfg := ListenConfig{ReadHeaderTimeout: 100 * time.Millisecond, ReadBodyTimeout: 100 * time.Millisecond,
		IdleTimeout: 100 * time.Millisecond}
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	s := serveBounded(t, cfg, read)
	addr := s.Addr().String()

	t.Run("idle", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		br := bufio.NewReader(c)
		_ = get(t, c, br)
		if !closedWithin(c, 5*time.Second) {
			t.Fatal("an idle keep-alive connection stayed open")
		}
	})
	t.Run("no headers", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		if !closedWithin(c, 5*time.Second) {
			t.Fatal("a connection that sends nothing stayed open")
		}
	})
	t.Run("trickled body", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", addr)
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nx")
		start := time.Now()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if _, err := io.WriteString(c, "x"); err != nil {
				break // the server closed it
			}
			if time.Since(start) > 5*time.Second {
				t.Fatal("a trickled body kept its connection open for 5s")
			}
		}
	})
}

func TestReadBody(t *testing.T) {
	b := NewBodyBudget(100)
	req := func(body string, length int64) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.ContentLength = length
		return r
	}
	w := discardWriter{http.Header{}}

	got, release, err := ReadBody(w, req("hello", 5), 10, b)
	if err != nil || string(got) != "hello" {
		t.Fatalf("ReadBody = %q, %v", got, err)
	}
	if b.Used() != 5 {
		t.Fatalf("Used() = %d while the body is held, want 5", b.Used())
	}
	if _, _, err := ReadBody(w, req(strings.Repeat("x", 96), 96), 100, b); !errors.Is(err, ErrBodyBudget) {
		t.Fatalf("over the budget: err = %v, want ErrBodyBudget", err)
	}
	if BodyStatus(w, ErrBodyBudget) != http.StatusServiceUnavailable || w.h.Get("Retry-After") == "" {
		t.Fatal("ErrBodyBudget is not a 503 with Retry-After")
	}
	release()
	release() // twice is once
	if b.Used() != 0 {
		t.Fatalf("Used() = %d after release, want 0", b.Used())
	}
	if _, _, err := ReadBody(w, req("x", 11), 10, b); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("declared too large: err = %v", err)
	}
	// A body of unknown length reserves the bound, and is cut there.
	if _, _, err := ReadBody(w, req(strings.Repeat("x", 11), -1), 10, b); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("streamed too large: err = %v", err)
	}
	if b.Used() != 0 {
		t.Fatalf("Used() = %d after failed reads, want 0", b.Used())
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}

func TestListenConfigDefaultsAndCheck(t *testing.T) {
	c := ListenConfig{MaxConns: 7}.Defaults()
	if c.MaxConns != 7 || c.MaxConnsPerClient != DefaultMaxConnsPerClient || c.IdleTimeout != DefaultIdleTimeout ||
		c.ReadBodyTimeout != DefaultReadBodyTimeout || c.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Fatalf("Defaults() = %+v", c)
	}
	err := ListenConfig{MaxConnsPerClient: -1}.Check("listener")
	if err == nil || !strings.Contains(err.Error(), "listener.max_conns_per_client") {
		t.Fatalf("Check = %v", err)
	}
}

// A hijacked connection (a WebSocket) counts against the caps until its
// holder closes it.
func TestHijackedConnectionCounts(t *testing.T) {
	held := make(chan net.Conn, 1)
	hijack := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		held <- c
	})
	s := serveBounded(t, ListenConfig{MaxConns: 1}, hijack)
	c := dialFrom(t, "127.0.0.1", s.Addr().String())
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	hc := <-held
	if n := s.Open(); n != 1 {
		t.Fatalf("Open() = %d with a hijacked connection, want 1", n)
	}
	refusedWith503(t, dialFrom(t, "127.0.0.1", s.Addr().String()))
	_ = hc.Close()
	if n := s.Open(); n != 0 {
		t.Fatalf("Open() = %d once the hijacked connection closed, want 0", n)
	}
}

// A handler that read its body may take longer than read_body_timeout to
// answer: its request's context stays alive (a webhook waiting for its
// update to be handled).
func TestSlowAnswerAfterTheBody(t *testing.T) {
	cfg := ListenConfig{ReadBodyTimeout: 50 * time.Millisecond}
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
			w.WriteHeader(http.StatusTeapot) // the client is still there: it sees this
		case <-time.After(4 * cfg.ReadBodyTimeout):
		}
	})
	s := serveBounded(t, cfg, slow)
	c := dialFrom(t, "127.0.0.1", s.Addr().String())
	_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("answered %d: the request's context ended after its body was read", res.StatusCode)
	}
}
