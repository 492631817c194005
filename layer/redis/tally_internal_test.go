package redis

import (
	"fmt"
	"testing"
)

func newTallies() *tallies {
	return &tallies{byKey: make(map[string]*tally), pruneAt: minPruneAt, every: refreshEvery.Microseconds()}
}

// A count leaves room for half the free places; the send after the room
// is used up counts again.
func TestTallyRoom(t *testing.T) {
	ts, sh := newTallies(), &shard{}
	const capacity = 100
	now := int64(1e9)
	tk := ts.plan("k", sh, now, capacity, false)
	if tk.how != countAdd {
		t.Fatalf("first send: %v, want a count", tk.how)
	}
	ts.counted("k", tk, capacity, 1)
	bare := 0
	for ts.plan("k", sh, now, capacity, false).how != countAdd {
		bare++
	}
	if bare != (capacity-1)/2 {
		t.Fatalf("%d sends without counting after a count of 1, want %d", bare, (capacity-1)/2)
	}
}

// Sends planned while a count was on its way come off the room it sets,
// and a count that comes back after a later one is ignored.
func TestTallyCountsInFlight(t *testing.T) {
	ts, sh := newTallies(), &shard{}
	const capacity = 10
	first := ts.plan("k", sh, 0, capacity, false)
	second := ts.plan("k", sh, 0, capacity, false) // no room yet: counts too
	ts.counted("k", second, capacity, 2)
	ts.counted("k", first, capacity, 1)
	if room := ts.byKey["k"].room; room != (capacity-2)/2 {
		t.Fatalf("room %d, want %d from the later count", room, (capacity-2)/2)
	}

	third := ts.plan("k", sh, 0, capacity, false) // within the room
	if third.how == countAdd {
		t.Fatal("a send within the room counted")
	}
	ts.byKey["k"].room = 0
	fourth := ts.plan("k", sh, 0, capacity, false)
	ts.plan("k", sh, 0, capacity, false) // planned before fourth's count returns
	ts.counted("k", fourth, capacity, 4)
	if room := ts.byKey["k"].room; room != (capacity-4)/2-1 {
		t.Fatalf("room %d, want %d: the send planned meanwhile taken off", room, (capacity-4)/2-1)
	}
}

// A group send, or a channel of the same key with another capacity, makes
// the next send count.
func TestTallyStale(t *testing.T) {
	ts, sh := newTallies(), &shard{}
	tk := ts.plan("k", sh, 0, 100, false)
	ts.counted("k", tk, 100, 1)
	ts.gen.Add(1)
	if tk := ts.plan("k", sh, 0, 100, false); tk.how != countAdd {
		t.Fatalf("send after a group send: %v, want a count", tk.how)
	}
	tk = ts.plan("k", sh, 0, 100, false)
	ts.counted("k", tk, 100, 1)
	if tk := ts.plan("k", sh, 0, 20, false); tk.how != countAdd {
		t.Fatalf("send with another capacity: %v, want a count", tk.how)
	}
}

// Within refreshEvery of the last time to live set, an add is bare and
// leaves its key to the refresh loop; after it, the add sets it.
func TestTallyRefresh(t *testing.T) {
	ts, sh := newTallies(), &shard{}
	now := int64(1e9)
	tk := ts.plan("k", sh, now, 100, false)
	ts.counted("k", tk, 100, 1)
	if tk := ts.plan("k", sh, now+1, 100, false); tk.how != add {
		t.Fatalf("send just after a count: %v, want a bare add", tk.how)
	}
	if !ts.markDirty("k", sh) {
		t.Fatal("first dirty key did not ask for the loop")
	}
	if ts.markDirty("k", sh) || len(ts.dirty) != 1 {
		t.Fatalf("key queued twice: %v", ts.dirty)
	}
	later := now + ts.every
	if batch := ts.take(later, nil); len(batch) != 1 || batch[0].key != "k" {
		t.Fatalf("take: %v", batch)
	}
	if tk := ts.plan("k", sh, later+1, 100, false); tk.how != add {
		t.Fatalf("send just after a refresh: %v, want a bare add", tk.how)
	}
	if tk := ts.plan("k", sh, later+ts.every, 100, false); tk.how != addExpire {
		t.Fatalf("send a refresh interval later: %v, want add and expire", tk.how)
	}
	if batch := ts.take(later, nil); len(batch) != 0 || ts.running {
		t.Fatalf("take with nothing dirty: %v, running %v; want none, and the loop to end", batch, ts.running)
	}
}

// Once the map reaches its bound, tallies not sent to within tallyKeep go,
// except those waiting for a refresh.
func TestTallyPrune(t *testing.T) {
	ts, sh := newTallies(), &shard{}
	for i := range minPruneAt {
		ts.plan(fmt.Sprint("old.", i), sh, 0, 100, false)
	}
	ts.markDirty("old.0", sh)
	ts.plan("new", sh, tallyKeep.Microseconds()+1, 100, false)
	if len(ts.byKey) != 2 || ts.byKey["old.0"] == nil || ts.byKey["new"] == nil {
		t.Fatalf("%d tallies after pruning, want the dirty one and the new one", len(ts.byKey))
	}
	if ts.pruneAt != minPruneAt {
		t.Fatalf("pruneAt %d, want %d", ts.pruneAt, minPruneAt)
	}
}
