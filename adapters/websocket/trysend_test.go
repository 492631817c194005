package websocket_test

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// TrySend never waits: frames the socket cannot take at once, and the
// rest of one it took in part, wait in the queue, in order with what the
// consumer sends, and every frame arrives whole, also while the client's
// pings are answered in between.
func TestTrySendKeepsFramesWholeAndInOrder(t *testing.T) {
	for _, compression := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compression), func(t *testing.T) {
			p := newProbe()
			s := start(t, wsa.Config{SendQueue: 4096, Compression: compression}, routes(p))
			d := gorilla.Dialer{EnableCompression: compression}
			c, _, err := d.Dial(s.wsURL("/ws/"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sc := p.scope(t)
			if !wsa.CanTrySend(sc) {
				t.Fatal("CanTrySend is false for the adapter's own scope")
			}
			pongs := make(chan struct{}, 100)
			c.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
			send(t, c, "first")
			if got := recv(t, c); got != "echo: first" { // open, and nothing queued
				t.Fatalf("got %q", got)
			}

			// Without compression the first frame is more than the
			// socket buffers of a client that is not reading take, so that
			// its write is cut short; the others queue behind it.
			const n, size = 300, 16 << 10
			big := 8 << 20
			if compression {
				big = size // compressed frames always go through the writer
			}
			pad := strings.Repeat("x", size)
			first := "0 " + strings.Repeat("y", big)
			frame := func(i int) string {
				if i == 0 {
					return first
				}
				return strconv.Itoa(i) + " " + pad
			}
			for i := range n {
				b := wsa.NewBroadcast(frame(i))
				if i%100 == 99 {
					b = wsa.NewBinaryBroadcast([]byte(frame(i)))
				}
				if err := wsa.TrySend(sc, b); err != nil {
					t.Fatalf("TrySend %d: %v", i, err)
				}
				if i%50 == 0 {
					if err := c.WriteControl(gorilla.PingMessage, nil, time.Now().Add(wait)); err != nil {
						t.Fatal(err)
					}
				}
			}
			send(t, c, "last") // the consumer's echo comes after every frame sent before
			for i := range n {
				_ = c.SetReadDeadline(time.Now().Add(wait))
				typ, data, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("read %d: %v", i, err)
				}
				want := []byte(frame(i))
				wantTyp := gorilla.TextMessage
				if i%100 == 99 {
					wantTyp = gorilla.BinaryMessage
				}
				if typ != wantTyp || !bytes.Equal(data, want) {
					t.Fatalf("frame %d: type %d, %d bytes starting %q; want type %d, %d bytes", i, typ, len(data), data[:min(len(data), 12)], wantTyp, len(want))
				}
			}
			if got := recv(t, c); got != "echo: last" {
				t.Fatalf("after the frames got %q", got)
			}
			if len(pongs) == 0 {
				t.Error("no ping was answered")
			}
		})
	}
}

// A client that does not read is disconnected with 1013 once its queue is
// full: TrySend cannot wait for room, and returns ErrSlowClient.
func TestTrySendDisconnectsASlowClient(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{SendQueue: 8, WriteTimeout: time.Minute}, routes(p))
	other := s.dial(t, "/ws/", nil)
	p.scope(t)
	slow := s.dial(t, "/ws/", nil) // never reads
	sc := p.scope(t)
	b := wsa.NewBroadcast(strings.Repeat("x", 64<<10))
	var err error
	sent := 0
	for ; sent < 10_000; sent++ {
		if err = wsa.TrySend(sc, b); err != nil {
			break
		}
	}
	if !errors.Is(err, wsa.ErrSlowClient) {
		t.Fatalf("after %d frames TrySend returned %v, want ErrSlowClient", sent, err)
	}
	if err := wsa.TrySend(sc, b); !errors.Is(err, wsa.ErrSlowClient) {
		t.Errorf("TrySend after the disconnect: %v, want ErrSlowClient", err)
	}
	if d := p.end(t); d.Code != websocket.CloseTryAgainLater {
		t.Errorf("disconnect code %d, want 1013", d.Code)
	}
	if code := closeCode(t, slow); code != -1 && code != websocket.CloseAbnormal && code != websocket.CloseTryAgainLater {
		t.Errorf("slow client saw close code %d", code)
	}
	send(t, other, "ok")
	if got := recv(t, other); got != "echo: ok" {
		t.Fatalf("other connection got %q", got)
	}
	t.Logf("disconnected after %d frames of 64 KiB", sent)
}

func TestTrySendToAForeignScope(t *testing.T) {
	s := &scope.Scope{Type: "websocket"}
	if wsa.CanTrySend(s) {
		t.Error("CanTrySend is true for a scope of no adapter")
	}
	if err := wsa.TrySend(s, wsa.NewBroadcast("x")); !errors.Is(err, wsa.ErrForeignScope) {
		t.Errorf("TrySend: %v, want ErrForeignScope", err)
	}
}

// TrySendAll writes several frames together, and when the socket takes
// them only in part, the rest still arrives whole and in order, before
// what is sent after.
func TestTrySendAllKeepsFramesWholeAndInOrder(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{SendQueue: 64}, routes(p))
	c := s.dial(t, "/ws/", nil)
	sc := p.scope(t)
	send(t, c, "first")
	if got := recv(t, c); got != "echo: first" { // open, and nothing queued
		t.Fatalf("got %q", got)
	}
	texts := []string{"a", strings.Repeat("b", 8<<20), "c", strings.Repeat("d", 1000)}
	var bs []*wsa.Broadcast
	for _, text := range texts {
		bs = append(bs, wsa.NewBroadcast(text))
	}
	if err := wsa.TrySendAll(sc, bs...); err != nil {
		t.Fatal(err)
	}
	// Queued behind the rest of the first batch: in one write or not.
	if err := wsa.TrySendAll(sc, wsa.NewBroadcast("e"), wsa.NewBinaryBroadcast([]byte("f"))); err != nil {
		t.Fatal(err)
	}
	send(t, c, "last")
	for _, want := range append(texts, "e") {
		if got := recv(t, c); got != want {
			t.Fatalf("got %d bytes starting %q, want %d bytes starting %q", len(got), got[:min(len(got), 8)], len(want), want[:min(len(want), 8)])
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if typ, data, err := c.ReadMessage(); err != nil || typ != gorilla.BinaryMessage || string(data) != "f" {
		t.Fatalf("got %d %q %v, want the binary f", typ, data, err)
	}
	if got := recv(t, c); got != "echo: last" {
		t.Fatalf("after the frames got %q", got)
	}
	if err := wsa.TrySendAll(&scope.Scope{}, bs...); !errors.Is(err, wsa.ErrForeignScope) {
		t.Errorf("TrySendAll to a scope of no adapter: %v, want ErrForeignScope", err)
	}
}
