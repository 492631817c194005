package websocket_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"go.uber.org/goleak"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event/websocket"
)

func TestOversizedFrame(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{ReadLimit: 1024}, routes(p))
	other := s.dial(t, "/ws/", nil)
	c := s.dial(t, "/ws/", nil)
	send(t, c, strings.Repeat("x", 1024)) // at the limit: fine
	recv(t, c)
	send(t, c, strings.Repeat("x", 100_000))
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

func TestInvalidUTF8(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	other := s.dial(t, "/ws/", nil)
	c := s.dial(t, "/ws/", nil)
	send(t, c, "fine")
	recv(t, c)
	send(t, c, "bad \xff\xfe text")
	if code := closeCode(t, c); code != websocket.CloseInvalidPayload {
		t.Fatalf("close code %d, want 1007", code)
	}
	if d := p.end(t); d.Code != websocket.CloseInvalidPayload {
		t.Errorf("disconnect code %d, want 1007", d.Code)
	}
	send(t, other, "ok")
	if got := recv(t, other); got != "echo: ok" {
		t.Fatalf("other connection got %q", got)
	}
}

// flooder sends big messages to its own connection until Send fails, and
// reports the error and how long the flood took.
type flooder struct {
	consumer.WebSocket
	res  chan floodResult
	ends chan websocket.Disconnect
}

type floodResult struct {
	sent int
	err  error
	took time.Duration
}

func (f *flooder) Receive(ctx context.Context, m websocket.Receive) error {
	if m.Text != "flood" {
		return f.SendText(ctx, "echo: "+m.Text)
	}
	big := strings.Repeat("z", 64<<10)
	began := time.Now()
	var r floodResult
	for r.sent = 0; r.sent < 100_000; r.sent++ {
		if r.err = f.SendText(ctx, big); r.err != nil {
			break
		}
	}
	r.took = time.Since(began)
	f.res <- r
	return nil
}

func (f *flooder) Disconnect(_ context.Context, d websocket.Disconnect) error {
	f.ends <- d
	return nil
}

func TestSlowClientIsDisconnected(t *testing.T) {
	res := make(chan floodResult, 1)
	ends := make(chan websocket.Disconnect, 10)
	app := consumer.New(func() *flooder { return &flooder{res: res, ends: ends} },
		consumer.On((*flooder).Receive), consumer.On((*flooder).Disconnect))
	s := start(t, wsa.Config{SendQueue: 8, SendTimeout: 100 * time.Millisecond, WriteTimeout: time.Minute}, app)
	other := s.dial(t, "/", nil)
	slow := s.dial(t, "/", nil)
	send(t, slow, "flood") // and never read

	var r floodResult
	select {
	case r = <-res:
	case <-time.After(wait):
		t.Fatal("the flooding consumer was blocked by a client that does not read")
	}
	if !errors.Is(r.err, wsa.ErrSlowClient) {
		t.Fatalf("after %d messages Send returned %v, want ErrSlowClient", r.sent, r.err)
	}
	select {
	case d := <-ends:
		if d.Code != websocket.CloseTryAgainLater {
			t.Errorf("disconnect code %d, want 1013", d.Code)
		}
	case <-time.After(wait):
		t.Fatal("the slow client's scope did not end")
	}
	// Others are served meanwhile and after.
	send(t, other, "ok")
	if got := recv(t, other); got != "echo: ok" {
		t.Fatalf("other connection got %q", got)
	}
	// The slow client finds its connection closed once it reads.
	if code := closeCode(t, slow); code != -1 && code != websocket.CloseAbnormal && code != websocket.CloseTryAgainLater {
		t.Errorf("slow client saw close code %d", code)
	}
	t.Logf("disconnected after %d messages of 64 KiB in %v", r.sent, r.took)
}

func TestDeadPeerIsDropped(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{PingInterval: 50 * time.Millisecond, PongTimeout: 500 * time.Millisecond}, routes(p))
	// A raw client that completes the handshake and then neither reads
	// nor answers pings.
	c, _, err := (&gorilla.Dialer{}).Dial(s.wsURL("/ws/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d := p.end(t); d.Code != websocket.CloseAbnormal {
		t.Errorf("disconnect code %d, want 1006", d.Code)
	}
	// A client that reads answers pings and stays.
	live := s.dial(t, "/ws/", nil)
	go func() {
		for {
			if _, _, err := live.NextReader(); err != nil {
				return
			}
		}
	}()
	select {
	case d := <-p.ends:
		t.Fatalf("a live client was dropped: %+v", d)
	case <-time.After(300 * time.Millisecond): // six pings answered
	}
}

func TestThousandConnectionsLeaveNothing(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	before := goleak.IgnoreCurrent()
	const n, parallel = 1000, 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, parallel)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs <- roundTripAndLeave(s.wsURL("/ws/"), i%2 == 0)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	codes := map[int]int{}
	for range n {
		codes[p.end(t).Code]++
	}
	if codes[websocket.CloseNormal] != n/2 || codes[websocket.CloseAbnormal] != n/2 {
		t.Errorf("disconnect codes %v, want %d of 1000 and of 1006", codes, n/2)
	}
	// The server's accept loop may have started after before was taken
	// (the Host is ready once the listener is bound); it is the test's
	// own server, shut down at cleanup, not a leak of the connections.
	goleak.VerifyNone(t, before, goleak.IgnoreAnyFunction("net/http.(*Server).Serve"))
}

// roundTripAndLeave does one echo round trip, then closes cleanly or drops
// the connection.
func roundTripAndLeave(url string, clean bool) error {
	c, _, err := gorilla.DefaultDialer.Dial(url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if err := c.WriteMessage(gorilla.TextMessage, []byte("ping")); err != nil {
		return err
	}
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "echo: ping" {
		return errors.Join(err, errors.New("bad echo: "+string(msg)))
	}
	if clean {
		_ = c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return nil
			}
		}
	}
	if tcp, ok := c.NetConn().(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	return nil
}
