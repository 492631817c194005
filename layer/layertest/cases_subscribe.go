package layertest

import (
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// TestSubscribe checks a backend that is a layer.Subscriber: a subscribed
// process-local channel gets what was queued before, then what is sent
// and group sent, in order, the members of one group message in one
// process (channels made with one prefix) share one layer.Shared, a channel takes one subscriber, and
// after cancel messages wait for Receive again.
func TestSubscribe(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	sub := layer.SubscriberOf(l)
	if sub == nil {
		t.Skip("backend is not a layer.Subscriber")
	}
	// Channels made with one prefix, as a process's consumers' are: a
	// backend may keep those of each prefix together.
	prefix := h.name("p")
	a, err := l.NewChannel(h.ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.NewChannel(h.ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	g := h.name("g")
	h.groupAdd(l, g, a)
	h.groupAdd(l, g, b)
	h.send(l, a, Ping{N: 1})

	type got struct {
		channel string
		sh      *layer.Shared
	}
	out := make(chan got, 16)
	deliver := func(channel string) func(*layer.Shared) {
		return func(sh *layer.Shared) { out <- got{channel, sh} }
	}
	cancelA, err := sub.Subscribe(a, deliver(a))
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", a, err)
	}
	cancelB, err := sub.Subscribe(b, deliver(b))
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", b, err)
	}
	defer cancelB()
	if _, err := sub.Subscribe(a, deliver(a)); err == nil {
		t.Fatalf("a second Subscribe(%q) was accepted", a)
	}
	h.groupSend(l, g, Ping{N: 2})
	h.send(l, a, Ping{N: 3})

	next := func() (string, int, *layer.Shared) {
		t.Helper()
		select {
		case d := <-out:
			p, err := event.Decode[Ping](d.sh.Event())
			if err != nil {
				t.Fatalf("delivered %v: %v", d.sh.Event(), err)
			}
			return d.channel, p.N, d.sh
		case <-time.After(caseTimeout):
			t.Fatal("a subscribed channel got nothing")
			return "", 0, nil
		}
	}
	var inA []int
	var shared []*layer.Shared // of the group message, by a and by b
	for range 4 {
		ch, n, sh := next()
		if ch == a {
			inA = append(inA, n)
		} else if n != 2 {
			t.Fatalf("%s got Ping %d, want 2", b, n)
		}
		if n == 2 {
			shared = append(shared, sh)
		}
	}
	if len(inA) != 3 || inA[0] != 1 || inA[1] != 2 || inA[2] != 3 {
		t.Fatalf("%s got %v, want [1 2 3]", a, inA)
	}
	if len(shared) != 2 || shared[0] != shared[1] {
		t.Fatal("the members of one group message got it as two Shared values: decoded twice")
	}
	cancelA()
	h.send(l, a, Ping{N: 4})
	h.expect(l, a, Ping{N: 4})
	select {
	case d := <-out:
		t.Fatalf("%s got %v after cancel", d.channel, d.sh.Event())
	default:
	}
}
