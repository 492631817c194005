package websocket

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// recConn records the writes and the write deadlines set on it; it is
// never read from.
type recConn struct {
	net.Conn // nil: only the methods below are called

	mu        sync.Mutex
	writes    [][]byte
	deadlines []time.Time
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *recConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadlines = append(c.deadlines, t)
	return nil
}

// stream is everything written, in order.
func (c *recConn) stream() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.writes, nil)
}

// readFrames parses b as a client parses what a server sends, with
// gorilla's own reader, and returns the messages.
func readFrames(t *testing.T, b []byte) []string {
	t.Helper()
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		req, err := http.ReadRequest(bufio.NewReader(server))
		if err != nil {
			return
		}
		h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		_, _ = fmt.Fprintf(server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(h[:]))
		_, _ = server.Write(b)
	}()
	d := gorilla.Dialer{NetDial: func(string, string) (net.Conn, error) { return client, nil }}
	ws, _, err := d.Dial("ws://test/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var got []string
	for {
		_, p, err := ws.ReadMessage()
		if err != nil {
			// The end of the stream, between frames, is a 1006.
			if !gorilla.IsCloseError(err, gorilla.CloseAbnormalClosure) {
				t.Fatalf("after %d messages: %v", len(got), err)
			}
			return got
		}
		got = append(got, string(p))
	}
}

// TestWriteFrame writes messages of the lengths at which a frame's header
// changes, and either side of a pooled buffer's capacity, at once and
// corked, and checks that gorilla's reader reads them back, and that a
// frame written at once is one write, or two (header, payload) when too
// big for a pooled buffer.
func TestWriteFrame(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 0xffff, 0xffff + 1, corkBufSize - 4, corkBufSize - 3, 200_000}
	deadline := time.Now().Add(time.Minute)
	for _, corked := range []bool{false, true} {
		rec := &recConn{}
		cc := &corkConn{Conn: rec}
		if corked {
			cc.cork()
		}
		var want []string
		for _, n := range sizes {
			msg := strings.Repeat(string(rune('a'+len(want)%26)), n)
			want = append(want, msg)
			before := len(rec.writes)
			if err := cc.writeFrame(frameText, []byte(msg), deadline); err != nil {
				t.Fatalf("writeFrame(%d bytes): %v", n, err)
			}
			writes, wantWrites := len(rec.writes)-before, 1
			if len(frameHeader(nil, frameText, n))+n > corkBufSize {
				wantWrites = 2
			}
			if !corked && writes != wantWrites {
				t.Errorf("%d bytes: %d writes, want %d", n, writes, wantWrites)
			}
		}
		if corked {
			if err := cc.uncork(); err != nil {
				t.Fatal(err)
			}
			// Corked, the frames leave together, maxCork at a time.
			if n, most := len(rec.writes), len(rec.stream())/maxCork+1; n > most {
				t.Errorf("corked: %d writes, want at most %d", n, most)
			}
		}
		got := readFrames(t, rec.stream())
		if len(got) != len(want) {
			t.Fatalf("corked %v: read %d messages, want %d", corked, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("corked %v: message %d: %d bytes, want %d", corked, i, len(got[i]), len(want[i]))
			}
		}
	}
}

// TestWriteDeadlineMovesOncePerSlack asks for a deadline of now+timeout
// for every write, over less than the slack, and checks that the socket's
// deadline moved once, never earlier than asked and at most slack later;
// an earlier deadline and no deadline are set at once.
func TestWriteDeadlineMovesOncePerSlack(t *testing.T) {
	const slack = time.Second
	rec := &recConn{}
	cc := &corkConn{Conn: rec, slack: slack}
	start := time.Unix(1_000_000, 0)
	check := func(asked time.Time) {
		t.Helper()
		set := rec.deadlines[len(rec.deadlines)-1]
		if set.Before(asked) || set.Sub(asked) > slack {
			t.Fatalf("asked for %v, the socket has %v", asked.Sub(start), set.Sub(start))
		}
	}
	for i := range 100 {
		asked := start.Add(time.Duration(i) * 9 * time.Millisecond).Add(2 * time.Second)
		if err := cc.SetWriteDeadline(asked); err != nil {
			t.Fatal(err)
		}
		check(asked)
	}
	if n := len(rec.deadlines); n != 1 {
		t.Fatalf("100 writes over 0.9 s moved the deadline %d times, want 1", n)
	}
	later := start.Add(5 * time.Second)
	_ = cc.SetWriteDeadline(later) // past the slack
	check(later)
	earlier := start.Add(time.Second) // a shorter timeout
	_ = cc.SetWriteDeadline(earlier)
	check(earlier)
	if n := len(rec.deadlines); n != 3 {
		t.Fatalf("deadline moved %d times, want 3", n)
	}
	_ = cc.SetWriteDeadline(time.Time{})
	_ = cc.SetWriteDeadline(time.Time{})
	if n := len(rec.deadlines); n != 4 || !rec.deadlines[3].IsZero() {
		t.Fatalf("deadlines %v, want a fourth, zero", rec.deadlines)
	}
}

// TestNoDataFrameAfterCloseFrame checks that once a close frame went out,
// as gorilla writes one, a message is refused rather than sent after it.
func TestNoDataFrameAfterCloseFrame(t *testing.T) {
	rec := &recConn{}
	cc := &corkConn{Conn: rec}
	if err := cc.writeFrame(frameText, []byte("before"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Write(append([]byte{opClose, 2}, gorilla.FormatCloseMessage(1000, "")...)); err != nil {
		t.Fatal(err)
	}
	if err := cc.writeFrame(frameText, []byte("after"), time.Time{}); !errors.Is(err, errCloseSent) {
		t.Fatalf("writeFrame after the close frame: %v, want errCloseSent", err)
	}
	if n := len(rec.writes); n != 2 {
		t.Fatalf("%d writes, want 2", n)
	}
}
