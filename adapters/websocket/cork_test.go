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
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
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

// TestQueuedEventsOfAScopeShareOneWrite holds back a room member's socket
// while 50 broadcasts queue up in its scope's inbox, and checks that once
// the socket takes writes again the scope's worker, corked while it
// handles the queued events, writes their frames together: 50 messages in
// a few writes (the one held back, then the rest in a batch or few), not 50.
func TestQueuedEventsOfAScopeShareOneWrite(t *testing.T) {
	const n = 50
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	app := router.With(consumer.New(func() *room { return new(room) },
		consumer.On((*room).Connect), consumer.On((*room).Receive), consumer.On((*room).Forward)),
		consumer.WithLayer(l))
	ln := &countingListener{Listener: listen(t), conns: make(chan *countingConn, 2), entered: make(chan struct{}, 1)}
	a, err := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, a, app)
	sender := s.dial(t, "/", nil)
	<-ln.conns
	send(t, sender, "join sender")
	for recv(t, sender) != "join sender" {
	}
	member := s.dial(t, "/", nil)
	sock := <-ln.conns
	send(t, member, "join member")
	for recv(t, member) != "join member" {
	}
	if got := recv(t, sender); got != "join member" {
		t.Fatalf("sender got %q", got)
	}
	before := sock.writes.Load()
	sock.armed.Store(true)
	for i := range n {
		send(t, sender, strconv.Itoa(i))
	}
	// The in-memory layer queues a broadcast for every member before the
	// sender hears its own: once it has heard all, the member's inbox
	// holds what its blocked write left.
	for i := range n {
		if got := recv(t, sender); got != strconv.Itoa(i) {
			t.Fatalf("sender got %q, want %d", got, i)
		}
	}
	<-ln.entered
	close(sock.gate)
	for i := range n {
		if got := recv(t, member); got != strconv.Itoa(i) {
			t.Fatalf("member got %q, want %d", got, i)
		}
	}
	// Two writes, or one when the worker first ran after all had queued;
	// a few more when the layer handed the last broadcasts to the scope
	// after the worker had begun a batch, since each batch is one write.
	// Unbatched, it would be n.
	if got := sock.writes.Load() - before; got > 5 {
		t.Fatalf("%d broadcasts took %d writes, want at most 5", n, got)
	}
}

// BenchmarkBroadcast is a room on the in-memory layer: 200 connections,
// one of which sends 16 messages per operation that the room broadcasts
// to all, each message prepared once. It reports deliveries per second
// and frames per write system call over all connections.
func BenchmarkBroadcast(b *testing.B) {
	const conns, burst = 200, 16
	l, err := memory.New(layer.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close() })
	app := router.With(consumer.New(func() *room { return new(room) },
		consumer.On((*room).Connect), consumer.On((*room).Receive), consumer.On((*room).Forward)),
		consumer.WithLayer(l))
	ln := &countingListener{Listener: listen(b), conns: make(chan *countingConn, conns), entered: make(chan struct{}, 1)}
	a, err := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	if err != nil {
		b.Fatal(err)
	}
	s := serve(b, a, app)
	var members []*gorilla.Conn
	var sockets []*countingConn
	for i := range conns {
		c := s.dial(b, "/", nil)
		sockets = append(sockets, <-ln.conns)
		// A member has joined once it hears its own message back.
		hello := fmt.Sprintf("join %d", i)
		send(b, c, hello)
		for recv(b, c) != hello {
		}
		members = append(members, c)
	}
	// The joins above were heard by the members that had joined before.
	for i, c := range members {
		for range conns - 1 - i {
			recv(b, c)
		}
	}
	writes := func() (n int64) {
		for _, sc := range sockets {
			n += sc.writes.Load()
		}
		return n
	}
	before := writes()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for j := range burst {
			send(b, members[0], strconv.Itoa(j))
		}
		for _, c := range members {
			for range burst {
				recv(b, c)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(conns*burst*b.N)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(conns*burst*b.N)/float64(writes()-before), "frames/write")
}
