package layertest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/layer"
)

// TestReceiveBlocks checks that Receive waits for a message, and that
// receivers waiting on one channel each get a different message.
func TestReceiveBlocks(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	ch := h.name("block")
	res := receiveAsync(h.ctx, l, ch)
	settle()
	select {
	case r := <-res:
		t.Fatalf("Receive returned %v, %v before anything was sent", r.ev, r.err)
	default:
	}
	h.send(l, ch, Ping{N: 1})
	if r := h.await(res); r.err != nil {
		t.Fatalf("Receive: %v", r.err)
	} else if ok, diff := sameEvent(Ping{N: 1}, r.ev); !ok {
		t.Fatalf("Receive: %s", diff)
	}

	const receivers = 5
	results := make([]<-chan result, receivers)
	for i := range results {
		results[i] = receiveAsync(h.ctx, l, ch)
	}
	settle()
	for i := range receivers {
		h.send(l, ch, Ping{N: i})
	}
	seen := make(map[int]bool)
	for _, res := range results {
		r := h.await(res)
		if r.err != nil {
			t.Fatalf("Receive: %v", r.err)
		}
		p, err := ping(r.ev)
		if err != nil || seen[p.N] {
			t.Fatalf("Receive: got %+v, %v; already seen: %v", p, err, seen[p.N])
		}
		seen[p.N] = true
	}
	h.expectEmpty(l, ch)
}

// TestReceiveCancel checks that a Receive whose context ends returns the
// context's error and takes nothing with it.
func TestReceiveCancel(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	ch := h.name("cancel")

	ctx, cancel := context.WithCancel(h.ctx)
	res := receiveAsync(ctx, l, ch)
	settle()
	cancel()
	if r := h.await(res); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled Receive: %v, %v; want context.Canceled", r.ev, r.err)
	}

	ctx, cancel = context.WithTimeout(h.ctx, 0)
	defer cancel()
	if ev, err := l.Receive(ctx, ch); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive past its deadline: %v, %v; want context.DeadlineExceeded", ev, err)
	}

	h.send(l, ch, Ping{N: 1})
	h.expect(l, ch, Ping{N: 1})
	h.expectEmpty(l, ch)
}

// TestReceiveCancelRace races sends against cancelled receives and checks
// that every message is received exactly once: a receiver that gives up
// must never take a message with it.
func TestReceiveCancelRace(t *testing.T, newLayer Factory, f Features) {
	const rounds = 300
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	ch := h.name("race")
	seen := make(map[int]int)
	record := func(r result) {
		t.Helper()
		p, err := ping(r.ev)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		seen[p.N]++
	}
	for i := range rounds {
		ctx, cancel := context.WithCancel(h.ctx)
		res := receiveAsync(ctx, l, ch)
		send := func() {
			if err := l.Send(h.ctx, ch, Ping{N: i}); err != nil {
				t.Errorf("Send: %v", err)
			}
		}
		// Each round picks one interleaving. The second is the one that
		// loses messages in a careless backend: the receiver is woken by
		// its cancellation just as a sender hands it a message.
		switch i % 3 {
		case 0: // send and cancel at once, the receiver perhaps not started
			start := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() { <-start; send() })
			wg.Go(func() { <-start; cancel() })
			close(start)
			wg.Wait()
		case 1:
			settle()
			cancel()
			send()
		default:
			settle()
			send()
			cancel()
		}
		if t.Failed() {
			t.FailNow()
		}
		r := h.await(res)
		switch {
		case r.err == nil:
			record(r)
		case !errors.Is(r.err, context.Canceled):
			t.Fatalf("Receive: %v", r.err)
		default:
			// The message the cancelled receiver left must still be
			// queued, ahead of a marker sent now. Draining it also
			// empties the channel, so the next receiver really waits.
			h.send(l, ch, marker)
			for {
				ev := h.receive(l, ch)
				if ok, _ := sameEvent(marker, ev); ok {
					break
				}
				record(result{ev: ev})
			}
		}
		if seen[i] != 1 {
			t.Fatalf("round %d: message received %d times", i, seen[i])
		}
	}
	h.expectEmpty(l, ch)
}

// TestClose checks that Close releases blocked receivers with ErrClosed
// and that every operation fails with ErrClosed afterwards.
func TestClose(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	ch, other, g := h.name("c"), h.name("other"), h.name("g")
	h.groupAdd(l, g, ch)
	results := []<-chan result{
		receiveAsync(h.ctx, l, ch),
		receiveAsync(h.ctx, l, ch),
		receiveAsync(h.ctx, l, other),
	}
	settle()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, res := range results {
		if r := h.await(res); !errors.Is(r.err, layer.ErrClosed) {
			t.Errorf("Receive blocked during Close: %v, %v; want ErrClosed", r.ev, r.err)
		}
	}
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, layer.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
	check("Send", l.Send(h.ctx, ch, Ping{}))
	_, err := l.Receive(h.ctx, ch)
	check("Receive", err)
	_, err = l.NewChannel(h.ctx, "specific")
	check("NewChannel", err)
	check("GroupAdd", l.GroupAdd(h.ctx, g, other))
	check("GroupDiscard", l.GroupDiscard(h.ctx, g, ch))
	check("GroupSend", l.GroupSend(h.ctx, g, Ping{}))
	check("Flush", l.Flush(h.ctx))
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestFlush checks that Flush drops queued messages and groups, and that
// a receiver waiting across it still gets what is sent afterwards.
func TestFlush(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	a, b, waiting, g := h.name("a"), h.name("b"), h.name("wait"), h.name("g")
	h.send(l, a, Ping{N: 1})
	h.send(l, b, Ping{N: 2})
	h.groupAdd(l, g, a)
	res := receiveAsync(h.ctx, l, waiting)
	settle()
	if err := l.Flush(h.ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	h.groupSend(l, g, Ping{N: 3})
	h.expectEmpty(l, a)
	h.expectEmpty(l, b)
	h.send(l, waiting, Ping{N: 4})
	if r := h.await(res); r.err != nil {
		t.Fatalf("Receive across Flush: %v", r.err)
	} else if ok, diff := sameEvent(Ping{N: 4}, r.ev); !ok {
		t.Fatalf("Receive across Flush: %s", diff)
	}
}
