package websocket_test

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/event/websocket"
)

// maskedText is a client's text frame of s (under 126 bytes), masked with
// the zero key.
func maskedText(s string) []byte {
	return append([]byte{0x81, 0x80 | byte(len(s)), 0, 0, 0, 0}, s...)
}

// readLoops returns the stacks of the goroutines that run a connection's
// read loop.
func readLoops() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var loops []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "(*conn).readLoop(") {
			loops = append(loops, g)
		}
	}
	return loops
}

// TestIdleConnectionWaitsOutsideGorilla checks that an idle connection's
// read loop waits for input in awaitInput, a few frames deep, rather
// than inside gorilla's reader, where its stack could not shrink below
// 8 KiB (see idle.go).
func TestIdleConnectionWaitsOutsideGorilla(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	c := s.dial(t, "/ws/", nil)
	send(t, c, "x")
	recv(t, c)
	// The read loop parks once the echo is written; nothing signals
	// that, so the stacks are looked at until it has, within the wait.
	deadline := time.Now().Add(wait)
	for {
		loops := readLoops()
		idle := len(loops) > 0
		for _, g := range loops {
			idle = idle && strings.Contains(g, "awaitInput") && !strings.Contains(g, "NextReader")
		}
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no idle read loop waits in awaitInput:\n%s", strings.Join(loops, "\n\n"))
		}
		runtime.Gosched()
	}
	send(t, c, "y")
	if got := recv(t, c); got != "echo: y" {
		t.Fatalf("after the wait: got %q", got)
	}
}

// TestFramesReadTogetherAllDelivered sends three frames in one write, so
// that the server reads them at once, and checks that each is delivered,
// in order: the read loop must not wait for input while its reader holds
// some.
func TestFramesReadTogetherAllDelivered(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	c := s.dial(t, "/ws/", nil)
	var frames []byte
	for _, m := range []string{"a", "b", "c"} {
		frames = append(frames, maskedText(m)...)
	}
	if _, err := c.NetConn().Write(frames); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"echo: a", "echo: b", "echo: c"} {
		if got := recv(t, c); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// TestMessageThenHangUp sends a message and the end of the connection
// together: the message is delivered and answered, and the end is seen at
// once (1006) rather than at the pong deadline. Whether the message is
// handled before the end is read depends on the timing (see
// TestHangUpWhileBusyAnswered for the other order, made certain).
func TestMessageThenHangUp(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p))
	c := s.dial(t, "/ws/", nil)
	send(t, c, "x")
	recv(t, c)
	tcp := c.NetConn().(*net.TCPConn)
	if _, err := tcp.Write(maskedText("last")); err != nil {
		t.Fatal(err)
	}
	if err := tcp.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); got != "echo: last" {
		t.Fatalf("got %q, want the last message's echo", got)
	}
	if d := p.end(t); d.Code != websocket.CloseAbnormal {
		t.Fatalf("disconnect %+v, want 1006", d)
	}
}

// TestReadBufferSizes echoes over connections whose read buffer gorilla
// makes itself (256 bytes and less: the read loop then waits inside its
// reader) and ones whose buffer the adapter makes for it, with messages
// larger than the buffer.
func TestReadBufferSizes(t *testing.T) {
	for _, size := range []int{128, 256, 257, 4096} {
		p := newProbe()
		s := start(t, wsa.Config{ReadBufferSize: size}, routes(p))
		c := s.dial(t, "/ws/", nil)
		for _, n := range []int{1, size, 3 * size} {
			msg := strings.Repeat("m", n)
			send(t, c, msg)
			if got := recv(t, c); got != "echo: "+msg {
				t.Fatalf("read buffer %d, %d bytes: echo of %d bytes", size, n, len(got))
			}
		}
		_ = c.Close()
		if d := p.end(t); d.Code != websocket.CloseAbnormal {
			t.Fatalf("read buffer %d: disconnect %+v, want 1006", size, d)
		}
		s.stop(t)
	}
}
