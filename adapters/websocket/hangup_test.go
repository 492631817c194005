package websocket_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// busy serves connections whose websocket.connect handler accepts, then
// holds until released, so that what the client sends meanwhile queues
// behind it, and then, if flood is set, sends large messages until a send
// fails. It echoes every text message, and reports what each echo's send,
// or the flood's failing one, returned.
type busy struct {
	flood    bool
	held     chan struct{}
	release  chan struct{}
	released sync.Once
	flooding chan struct{} // the flood's first message was sent
	sent     chan error
	ends     chan websocket.Disconnect
}

func newBusy(flood bool) *busy {
	return &busy{flood: flood, held: make(chan struct{}, 1), release: make(chan struct{}), flooding: make(chan struct{}, 1),
		sent: make(chan error, 16), ends: make(chan websocket.Disconnect, 1)}
}

// let releases the held handler; calling it again does nothing.
func (b *busy) let() { b.released.Do(func() { close(b.release) }) }

// serve starts a server of b; the held handler is released before the
// server stops, whatever the test did.
func (b *busy) serve(t *testing.T, cfg wsa.Config) *server {
	t.Helper()
	s := start(t, cfg, consumer.New(func() *laggard { return &laggard{b: b} },
		consumer.On((*laggard).Connect), consumer.On((*laggard).Receive), consumer.On((*laggard).Disconnect)))
	t.Cleanup(b.let) // before the server stops: cleanups run last first
	return s
}

type laggard struct {
	consumer.WebSocket
	b *busy
}

func (l *laggard) Connect(ctx context.Context, _ websocket.Connect) error {
	if err := l.Accept(ctx, ""); err != nil {
		return err
	}
	l.b.held <- struct{}{}
	<-l.b.release
	if !l.b.flood {
		return nil
	}
	big := make([]byte, 64<<10)
	for i := 0; ; i++ {
		if err := l.SendBytes(ctx, big); err != nil {
			l.b.sent <- err
			return nil
		}
		if i == 0 {
			l.b.flooding <- struct{}{}
		}
	}
}

func (l *laggard) Receive(ctx context.Context, m websocket.Receive) error {
	l.b.sent <- l.SendText(ctx, "echo: "+m.Text)
	return nil
}

func (l *laggard) Disconnect(_ context.Context, d websocket.Disconnect) error {
	l.b.ends <- d
	return nil
}

// await receives from ch within the wait.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within the wait", what)
		var zero T
		return zero
	}
}

// hangUp sends frames, then half-closes the client's side of c.
func hangUp(t *testing.T, c *gorilla.Conn, frames ...[]byte) {
	t.Helper()
	tcp := c.NetConn().(*net.TCPConn)
	for _, f := range frames {
		if _, err := tcp.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := tcp.CloseWrite(); err != nil {
		t.Fatal(err)
	}
}

// awaitEnded returns once the server has no live scope: its read loop has
// read the hang-up, behind the messages sent before it, and ended the
// connection's scope. Nothing signals that, so the count is looked at
// until it has, within the wait.
func awaitEnded(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for s.h.Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the hang-up did not end the scope within the wait")
		}
		runtime.Gosched()
	}
}

// TestHangUpWhileBusyAnswered: a client sends messages and hangs up (its
// side of the stream ends, without a close frame) while its scope still
// handles an earlier event. The messages were accepted, so they are
// handled and answered after the hang-up was read, the close frame last.
func TestHangUpWhileBusyAnswered(t *testing.T) {
	b := newBusy(false)
	// close_timeout is the wait: however loaded the machine, the answers
	// are in time.
	s := b.serve(t, wsa.Config{CloseTimeout: wait})
	c := s.dial(t, "/", nil)
	await(t, b.held, "websocket.connect")
	hangUp(t, c, maskedText("a"), maskedText("b"))
	awaitEnded(t, s)
	b.let()
	for _, want := range []string{"echo: a", "echo: b"} {
		if err := await(t, b.sent, "send"); err != nil {
			t.Fatalf("answer %q: %v", want, err)
		}
		if got := recv(t, c); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if d := await(t, b.ends, "websocket.disconnect"); d.Code != websocket.CloseAbnormal || d.Reason != scope.ReasonClosed {
		t.Errorf("disconnect %+v, want 1006 closed", d)
	}
	if code := closeCode(t, c); code != websocket.CloseNormal {
		t.Errorf("close code %d after the answers, want 1000", code)
	}
}

// TestHangUpStuckHandlerBounded: after a hang-up, close_timeout bounds
// the wait for the answers: a handler that does not return holds the
// socket no longer, and what it sends later fails with ErrClosed.
func TestHangUpStuckHandlerBounded(t *testing.T) {
	b := newBusy(false)
	s := b.serve(t, wsa.Config{CloseTimeout: time.Millisecond})
	c := s.dial(t, "/", nil)
	await(t, b.held, "websocket.connect")
	hangUp(t, c, maskedText("late"))
	// gorilla reports a socket closed without a close frame as 1006 (or
	// -1, as closeCode says, for a reset).
	if code := closeCode(t, c); code != websocket.CloseAbnormal && code != -1 {
		t.Fatalf("close code %d while the handler holds, want the socket closed without a close frame", code)
	}
	b.let()
	if err := await(t, b.sent, "send"); !errors.Is(err, wsa.ErrClosed) {
		t.Errorf("answer after close_timeout: %v, want ErrClosed", err)
	}
	if d := await(t, b.ends, "websocket.disconnect"); d.Code != websocket.CloseAbnormal {
		t.Errorf("disconnect %+v, want 1006", d)
	}
}

// TestHangUpNotReadingBounded: a client that hangs up and never reads
// cannot hold its socket beyond close_timeout, even though the send
// and write timeouts would let a write wait an hour: the write stuck on
// it fails, and so does the handler's send, with ErrClosed.
func TestHangUpNotReadingBounded(t *testing.T) {
	b := newBusy(true)
	s := b.serve(t, wsa.Config{CloseTimeout: time.Millisecond, SendTimeout: time.Hour, WriteTimeout: time.Hour})
	c := s.dial(t, "/", nil)
	await(t, b.held, "websocket.connect")
	b.let()
	await(t, b.flooding, "flood")
	hangUp(t, c)
	if err := await(t, b.sent, "failed send"); !errors.Is(err, wsa.ErrClosed) {
		t.Errorf("flood to a client that hung up: %v, want ErrClosed", err)
	}
	if d := await(t, b.ends, "websocket.disconnect"); d.Code != websocket.CloseAbnormal {
		t.Errorf("disconnect %+v, want 1006", d)
	}
}
