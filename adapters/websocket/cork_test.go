package websocket_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	gorilla "github.com/gorilla/websocket"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
)

// countingListener counts the writes on the sockets it accepts, which are
// the adapter's system calls: the adapter writes to the socket gorilla
// hijacked from the listener's connection.
type countingListener struct {
	net.Listener
	conns   chan *countingConn
	entered chan struct{} // given to the connections
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c, gate: make(chan struct{}), entered: l.entered}
	l.conns <- cc
	return cc, nil
}

// countingConn counts its writes; once armed, its next write says so on
// entered and waits for the gate, so that a test can make messages queue
// behind it.
type countingConn struct {
	net.Conn
	writes  atomic.Int64
	armed   atomic.Bool
	gate    chan struct{}
	entered chan struct{}
}

func (c *countingConn) Write(p []byte) (int, error) {
	if c.armed.CompareAndSwap(true, false) {
		c.entered <- struct{}{}
		<-c.gate
	}
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// burster sends "n" numbered messages when told "burst n", then says so
// on sent. Told "gated n", it sends the first from a goroutine of its own,
// waits until its write is under way (entered), and then queues the rest
// behind it.
type burster struct {
	consumer.WebSocket
	sent    chan int
	entered chan struct{}
}

func (b *burster) Receive(ctx context.Context, m websocket.Receive) error {
	gated := strings.HasPrefix(m.Text, "gated ")
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(m.Text, "burst "), "gated "))
	if err != nil {
		return err
	}
	first := 0
	if gated {
		first = 1
		failed := make(chan error, 1)
		go func() { failed <- b.SendText(ctx, "0") }()
		select {
		case <-b.entered:
		case err := <-failed:
			return err
		}
	}
	for i := first; i < n; i++ {
		if err := b.SendText(ctx, strconv.Itoa(i)); err != nil {
			return err
		}
	}
	b.sent <- n
	return nil
}

func startBurster(t testing.TB, cfg wsa.Config) (*server, *countingListener, chan int) {
	t.Helper()
	ln := &countingListener{Listener: listen(t), conns: make(chan *countingConn, 16), entered: make(chan struct{}, 1)}
	sent := make(chan int, 16)
	app := consumer.New(func() *burster { return &burster{sent: sent, entered: ln.entered} }, consumer.On((*burster).Receive))
	ws := router.NewPathRouter()
	ws.Handle("/ws/", app)
	a, err := wsa.New(cfg, wsa.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, a, router.ByProtocol(router.Routes{"websocket": ws})), ln, sent
}

// TestQueuedFramesShareOneWrite queues 100 messages behind a write that
// the socket holds back, and checks that they leave in one system call,
// as 100 separate frames in order.
func TestQueuedFramesShareOneWrite(t *testing.T) {
	const n = 100
	s, ln, sent := startBurster(t, wsa.Config{})
	c := s.dial(t, "/ws/", nil)
	sc := <-ln.conns
	before := sc.writes.Load() // the handshake
	sc.armed.Store(true)       // the first message's write waits
	send(t, c, fmt.Sprintf("gated %d", n))
	if got := <-sent; got != n {
		t.Fatalf("sent %d, want %d", got, n)
	}
	close(sc.gate)
	for i := range n {
		if got := recv(t, c); got != strconv.Itoa(i) {
			t.Fatalf("message %d: got %q", i, got)
		}
	}
	// The first message was written alone, on the sender's goroutine;
	// the 99 queued behind it in one write.
	if got := sc.writes.Load() - before; got != 2 {
		t.Fatalf("%d messages took %d writes, want 2", n, got)
	}
}

// BenchmarkQueuedFrames sends bursts of 64 messages to one connection as
// fast as its client reads them, and reports frames per write system call.
func BenchmarkQueuedFrames(b *testing.B) {
	const n = 64
	s, ln, sent := startBurster(b, wsa.Config{})
	c := s.dial(b, "/ws/", nil)
	sc := <-ln.conns
	before := sc.writes.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.WriteMessage(gorilla.TextMessage, []byte("burst 64")); err != nil {
			b.Fatal(err)
		}
		for range n {
			if _, _, err := c.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
		<-sent
	}
	b.StopTimer()
	writes := sc.writes.Load() - before
	b.ReportMetric(float64(n*b.N)/float64(writes), "frames/write")
}
