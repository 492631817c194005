package layertest

import (
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
)

// TestGroup checks group add, send and discard, and that adding a member
// twice does not deliver twice.
func TestGroup(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{})
	g := h.name("g")
	a, b, outsider := h.name("a"), h.name("b"), h.name("out")
	h.groupAdd(l, g, a)
	h.groupAdd(l, g, b)
	h.groupAdd(l, g, b)
	h.groupSend(l, g, Ping{N: 1})
	h.expect(l, a, Ping{N: 1})
	h.expect(l, b, Ping{N: 1})
	h.expectEmpty(l, a)
	h.expectEmpty(l, b)
	h.expectEmpty(l, outsider)

	if err := l.GroupDiscard(h.ctx, g, a); err != nil {
		t.Fatalf("GroupDiscard: %v", err)
	}
	if err := l.GroupDiscard(h.ctx, g, outsider); err != nil {
		t.Fatalf("GroupDiscard of a non-member: %v", err)
	}
	h.groupSend(l, g, Ping{N: 2})
	h.expect(l, b, Ping{N: 2})
	h.expectEmpty(l, a)
	h.expectEmpty(l, b)

	h.groupSend(l, h.name("nobody"), Ping{N: 3})
}

// TestGroupSkipsFull checks that a group send skips a full member without
// an error and still reaches the others.
func TestGroupSkipsFull(t *testing.T, newLayer Factory, f Features) {
	h := begin(t, newLayer, f)
	l := h.open(layer.Config{Capacity: 2})
	g, full, free := h.name("g"), h.name("full"), h.name("free")
	h.groupAdd(l, g, full)
	h.groupAdd(l, g, free)
	h.send(l, full, Ping{N: 1})
	h.send(l, full, Ping{N: 2})
	h.groupSend(l, g, Ping{N: 3})
	h.expect(l, free, Ping{N: 3})
	h.expect(l, full, Ping{N: 1})
	h.expect(l, full, Ping{N: 2})
	h.expectEmpty(l, full)
	h.expectEmpty(l, free)
}

// TestGroupExpiry checks that a membership lapses after the group expiry
// unless GroupAdd refreshed it.
func TestGroupExpiry(t *testing.T, newLayer Factory, f Features) {
	if !f.GroupExpiry {
		t.Skip("backend does not claim GroupExpiry")
	}
	h := begin(t, newLayer, f)
	g, stale, fresh := h.name("g"), h.name("stale"), h.name("fresh")
	if f.Advance == nil {
		expiry := h.tick()
		l := h.open(layer.Config{GroupExpiry: expiry})
		h.groupAdd(l, g, stale)
		h.elapse(l, expiry+expiry/2)
		h.groupAdd(l, g, fresh)
		h.groupSend(l, g, Ping{N: 1})
		h.expect(l, fresh, Ping{N: 1})
		h.expectEmpty(l, stale)
		return
	}

	const expiry = time.Hour
	l := h.open(layer.Config{GroupExpiry: expiry})
	h.groupAdd(l, g, stale)
	h.groupAdd(l, g, fresh)
	h.elapse(l, 40*time.Minute)
	h.groupAdd(l, g, fresh) // refreshed: lasts until 100 minutes
	h.elapse(l, 40*time.Minute)
	h.groupSend(l, g, Ping{N: 1})
	h.expect(l, fresh, Ping{N: 1})
	h.expectEmpty(l, stale)
	h.elapse(l, 30*time.Minute)
	h.groupSend(l, g, Ping{N: 2})
	h.expectEmpty(l, fresh)
}

func (h *harness) groupAdd(l layer.Layer, group, channel string) {
	h.t.Helper()
	if err := l.GroupAdd(h.ctx, group, channel); err != nil {
		h.t.Fatalf("GroupAdd(%q, %q): %v", group, channel, err)
	}
}

func (h *harness) groupSend(l layer.Layer, group string, ev Ping) {
	h.t.Helper()
	if err := l.GroupSend(h.ctx, group, ev); err != nil {
		h.t.Fatalf("GroupSend(%q, %v): %v", group, ev, err)
	}
}
