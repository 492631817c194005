package layertest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// TestRoundTrip checks that a received event keeps the type and fields of
// the one sent, whether it was a typed event or a Message, and that a
// typed event can be decoded from what arrives.
func TestRoundTrip(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	ch := h.name("rt")
	sent := []event.Event{
		Ping{N: 42, Text: "héllo"},
		event.Message{
			"type":   "test.raw",
			"text":   "x",
			"n":      7,
			"list":   []any{"a", 1},
			"nested": map[string]any{"ok": true},
			"bytes":  []byte{1, 2, 3},
		},
	}
	for _, ev := range sent {
		h.send(l, ch, ev)
	}
	for i, want := range sent {
		got := h.receive(l, ch)
		if got.Type() != want.Type() {
			t.Fatalf("message %d: type %q, want %q", i, got.Type(), want.Type())
		}
		if ok, diff := sameEvent(want, got); !ok {
			t.Fatalf("message %d: %s", i, diff)
		}
		if i == 0 {
			p, err := ping(got)
			if err != nil || p != sent[0] {
				t.Fatalf("Decode[Ping] = %+v, %v; want %+v", p, err, sent[0])
			}
		}
	}
}

// TestOrder checks that one channel delivers in the order sent.
func TestOrder(t *testing.T, newLayer Factory, f Features) {
	const n = 1000
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{Capacity: n})
	ch := h.name("order")
	for i := range n {
		h.send(l, ch, Ping{N: i})
	}
	for i := range n {
		p, err := ping(h.receive(l, ch))
		if err != nil || p.N != i {
			t.Fatalf("message %d: got %+v, %v", i, p, err)
		}
	}
	h.expectEmpty(l, ch)
}

// TestCapacity checks that a full channel refuses sends with
// ErrChannelFull naming the channel, that receiving makes room again, and
// that ChannelCapacity overrides the capacity by pattern.
func TestCapacity(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	big := h.name("big")
	l := h.open(layer.Config{Capacity: 3, ChannelCapacity: map[string]int{big[:len(big)-1] + "*": 5}})
	small := h.name("small")
	for _, c := range []struct {
		channel  string
		capacity int
	}{{small, 3}, {big, 5}} {
		for i := range c.capacity {
			h.send(l, c.channel, Ping{N: i})
		}
		err := l.Send(h.ctx, c.channel, Ping{N: c.capacity})
		if !errors.Is(err, layer.ErrChannelFull) {
			t.Fatalf("Send to %q beyond capacity %d: %v, want ErrChannelFull", c.channel, c.capacity, err)
		}
		if !strings.Contains(err.Error(), c.channel) {
			t.Errorf("error %q does not name channel %q", err, c.channel)
		}
		h.expect(l, c.channel, Ping{N: 0})
		h.send(l, c.channel, Ping{N: c.capacity})
		for i := 1; i <= c.capacity; i++ {
			h.expect(l, c.channel, Ping{N: i})
		}
		h.expectEmpty(l, c.channel)
	}
}

// TestExpiry checks that a message not received within the expiry is
// dropped and no longer fills the channel, while a fresh one is delivered.
func TestExpiry(t *testing.T, newLayer Factory, f Features) {
	if !f.Expiry {
		t.Skip("backend does not claim Expiry")
	}
	h := begin(t, newLayer, f)
	expiry := time.Minute
	if f.Advance == nil {
		expiry = h.tick()
	}
	l := h.open(layer.Config{Capacity: 2, Expiry: expiry})
	ch := h.name("exp")
	h.send(l, ch, Ping{N: 1})
	h.send(l, ch, Ping{N: 2})
	h.elapse(l, expiry+expiry/2)
	h.send(l, ch, Ping{N: 3}) // fits only if the expired ones were dropped
	h.expect(l, ch, Ping{N: 3})
	h.expectEmpty(l, ch)

	if f.Advance != nil {
		h.send(l, ch, Ping{N: 4})
		h.elapse(l, expiry/2)
		h.expect(l, ch, Ping{N: 4})
	}
}

// TestNewChannel checks that NewChannel names are valid, unique,
// process-local, start with the prefix, and can be used.
func TestNewChannel(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	prefix := h.name("specific") + "."
	seen := make(map[string]bool)
	for range 1000 {
		name, err := l.NewChannel(h.ctx, prefix)
		if err != nil {
			t.Fatalf("NewChannel(%q): %v", prefix, err)
		}
		if err := layer.ValidChannelName(name); err != nil {
			t.Fatalf("NewChannel(%q) = %q: %v", prefix, name, err)
		}
		if !strings.HasPrefix(name, prefix) || strings.Count(name, "!") != 1 {
			t.Fatalf("NewChannel(%q) = %q, want the prefix and one '!'", prefix, name)
		}
		if seen[name] {
			t.Fatalf("NewChannel(%q) returned %q twice", prefix, name)
		}
		seen[name] = true
	}
	name, err := l.NewChannel(h.ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	h.send(l, name, Ping{N: 1})
	h.expect(l, name, Ping{N: 1})
	for _, bad := range []string{"", "has space", "bang!", strings.Repeat("a", layer.MaxNameLength)} {
		if _, err := l.NewChannel(h.ctx, bad); !errors.Is(err, layer.ErrInvalidName) {
			t.Errorf("NewChannel(%q): %v, want ErrInvalidName", bad, err)
		}
	}
}

// TestInvalidNames checks that every operation refuses invalid channel and
// group names with ErrInvalidName, and accepts the longest valid name.
func TestInvalidNames(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	okChannel, okGroup := h.name("c"), h.name("g")
	long := okChannel + strings.Repeat("a", layer.MaxNameLength-1-len(okChannel))
	h.send(l, long, Ping{N: 1})
	h.expect(l, long, Ping{N: 1})

	badNames := []string{"", "has space", "é", "a/b", "!a", "a!b!c", "a\x00", strings.Repeat("a", layer.MaxNameLength)}
	for _, bad := range badNames {
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, layer.ErrInvalidName) {
				t.Errorf("%s with %q: %v, want ErrInvalidName", op, bad, err)
			}
		}
		check("Send", l.Send(h.ctx, bad, Ping{}))
		_, err := l.Receive(h.ctx, bad)
		check("Receive", err)
		check("GroupAdd channel", l.GroupAdd(h.ctx, okGroup, bad))
		check("GroupAdd group", l.GroupAdd(h.ctx, bad, okChannel))
		check("GroupDiscard channel", l.GroupDiscard(h.ctx, okGroup, bad))
		check("GroupDiscard group", l.GroupDiscard(h.ctx, bad, okChannel))
		check("GroupSend", l.GroupSend(h.ctx, bad, Ping{}))
	}
	// A '!' makes a channel process-local; groups have no such form.
	check := l.GroupAdd(h.ctx, okGroup+"!x", okChannel)
	if !errors.Is(check, layer.ErrInvalidName) {
		t.Errorf("GroupAdd with group %q: %v, want ErrInvalidName", okGroup+"!x", check)
	}
	h.expectEmpty(l, okChannel)
}

// TestInvalidEvents checks that an event without a type is refused and
// nothing is queued.
func TestInvalidEvents(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	ch, g := h.name("c"), h.name("g")
	if err := l.GroupAdd(h.ctx, g, ch); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []event.Event{nil, event.Message{}, event.Message{"type": ""}} {
		if err := l.Send(h.ctx, ch, ev); !errors.Is(err, event.ErrNoType) {
			t.Errorf("Send(%#v): %v, want ErrNoType", ev, err)
		}
		if err := l.GroupSend(h.ctx, g, ev); !errors.Is(err, event.ErrNoType) {
			t.Errorf("GroupSend(%#v): %v, want ErrNoType", ev, err)
		}
	}
	h.expectEmpty(l, ch)
}
