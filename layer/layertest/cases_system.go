package layertest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
)

// TestConcurrent runs senders and receivers on shared channels at once
// and checks that every message is received exactly once. Run it with
// -race.
func TestConcurrent(t *testing.T, newLayer Factory, f Features) {
	const (
		senders      = 8
		perSender    = 250
		total        = senders * perSender
		channels     = 4
		perChannel   = 3 // receivers
		totalReceive = channels * perChannel
	)
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{Capacity: total})
	names := make([]string, channels)
	for i := range names {
		names[i] = h.name("conc")
	}

	ctx, stop := context.WithCancel(h.ctx)
	defer stop()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		seen     = make(map[int]int, total)
		received atomic.Int64
		errs     = make(chan error, senders+totalReceive)
	)
	for r := range totalReceive {
		wg.Go(func() {
			for {
				ev, err := l.Receive(ctx, names[r%channels])
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
						stop()
					}
					return
				}
				p, err := ping(ev)
				if err != nil {
					errs <- err
					stop()
					return
				}
				mu.Lock()
				seen[p.N]++
				mu.Unlock()
				if received.Add(1) == total {
					stop()
				}
			}
		})
	}
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				n := s*perSender + i
				if err := l.Send(ctx, names[n%channels], Ping{N: n}); err != nil {
					errs <- err
					stop()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := received.Load(); got != total {
		t.Fatalf("received %d of %d messages", got, total)
	}
	for n := range total {
		if seen[n] != 1 {
			t.Errorf("message %d received %d times", n, seen[n])
		}
	}
	for _, ch := range names {
		h.expectEmpty(l, ch)
	}
}

// TestMultiProcess checks that two layers on one backend share channels
// and groups.
func TestMultiProcess(t *testing.T, newLayer Factory, f Features) {
	if !f.MultiProcess {
		t.Skip("backend does not claim MultiProcess")
	}
	h := begin(t, newLayer, f)
	a, b := h.open(layer.Config{}), h.open(layer.Config{})
	ch, member, g := h.name("c"), h.name("m"), h.name("g")
	h.send(a, ch, Ping{N: 1})
	h.expect(b, ch, Ping{N: 1})
	h.groupAdd(a, g, member)
	h.groupSend(b, g, Ping{N: 2})
	h.expect(b, member, Ping{N: 2})
	h.expectEmpty(a, ch)
}

// TestProcessLocal checks that a channel made by NewChannel on one layer
// is reached from another, directly and through a group, and received on
// the layer that made it.
func TestProcessLocal(t *testing.T, newLayer Factory, f Features) {
	if !f.MultiProcess || !f.ProcessLocalChannels {
		t.Skip("backend does not claim MultiProcess and ProcessLocalChannels")
	}
	h := begin(t, newLayer, f)
	a, b := h.open(layer.Config{}), h.open(layer.Config{})
	name, err := a.NewChannel(h.ctx, h.name("local"))
	if err != nil {
		t.Fatalf("NewChannel: %v", err)
	}
	g := h.name("g")
	h.send(b, name, Ping{N: 1})
	h.expect(a, name, Ping{N: 1})
	h.groupAdd(a, g, name)
	h.groupSend(b, g, Ping{N: 2})
	h.expect(a, name, Ping{N: 2})
	h.expectEmpty(a, name)
}

// TestRestart checks that a layer recovers when its server restarts: once
// the server is back, sends succeed again and reach receivers.
func TestRestart(t *testing.T, newLayer Factory, f Features) {
	if f.Restart == nil {
		t.Skip("backend has no Restart")
	}
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	ch := h.name("restart")
	h.send(l, ch, Ping{N: 1})
	h.expect(l, ch, Ping{N: 1})

	f.Restart(t)
	// Sends may fail until the layer has reconnected; retry them, with a
	// pause so as not to spin against a server that is still starting.
	n := 2
	for {
		err := l.Send(h.ctx, ch, Ping{N: n})
		if err == nil {
			break
		}
		if h.ctx.Err() != nil {
			t.Fatalf("Send after Restart never succeeded: %v", err)
		}
		n++
		time.Sleep(50 * time.Millisecond)
	}
	// A send that reported failure may still have arrived, so skip any
	// message older than the one that succeeded.
	for {
		p, err := ping(h.receive(l, ch))
		if err != nil {
			t.Fatal(err)
		}
		if p.N == n {
			break
		}
	}
	h.expectEmpty(l, ch)
}
