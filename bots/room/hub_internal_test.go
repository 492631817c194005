package room

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
)

// A hub whose writer is behind keeps at most maxHubLines lines, drops the
// rest, counts each drop in its observer and says so once per
// dropWarnEvery, with the count.
func TestABusyHubDropsPastItsBoundAndWarns(t *testing.T) {
	var logs strings.Builder
	now := time.Unix(1000, 0)
	h := &hub{key: hubKey{room: "r"}, channel: "specific.!x", log: slog.New(slog.NewTextHandler(&logs, nil)),
		now: func() time.Time { return now }, drops: &counted{}}
	h.writing = true // a writer that has not come back for its lines
	line := func() *layer.Shared {
		return layer.NewShared(Message{Room: "r", From: "a", Protocol: "web", Text: "hi"})
	}
	for range maxHubLines + 3 {
		h.deliver(line())
	}
	if len(h.queue) != maxHubLines {
		t.Fatalf("%d lines queued, want %d", len(h.queue), maxHubLines)
	}
	if n := strings.Count(logs.String(), "dropped lines"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "dropped=1 ") || h.dropped != 2 {
		t.Fatalf("warned of the first drop and counted %d since, want 2:\n%s", h.dropped, logs.String())
	}
	now = now.Add(dropWarnEvery)
	h.deliver(line())
	if n := strings.Count(logs.String(), "dropped lines"); n != 2 || !strings.Contains(logs.String(), "dropped=3 ") {
		t.Fatalf("after the interval, want a second warning of 3 drops:\n%s", logs.String())
	}
	if got, want := h.drops.(*counted).n, 4; got != want || h.drops.(*counted).last != "room.message/backlog_full" {
		t.Errorf("%d drops observed (last %q), want %d of room.message/backlog_full", got, h.drops.(*counted).last, want)
	}
	if got := h.queue[0].frame.Text; got != "[web] a: hi" {
		t.Errorf("queued line %q", got)
	}
}

// counted is a consumer.DropObserver that counts.
type counted struct {
	n    int
	last string
}

func (c *counted) LayerMessageDropped(typ, reason string) { c.n++; c.last = typ + "/" + reason }
