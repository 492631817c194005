package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

type note struct {
	N int `msgpack:"n"`
}

func (note) Type() string { return "test.note" }

// TestEverySkipIsCountedAndLogged sends to a group of members that do not
// receive, far beyond their channels' capacity, and checks that every
// delivery skipped is counted by group and reported by the warnings, which
// are rate-limited: a few lines carry them all.
func TestEverySkipIsCountedAndLogged(t *testing.T) {
	const capacity, members, sends = 5, 4, 500
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	logs := new(logtest.Buffer)
	obs := new(layertest.SkipCounter)
	l, err := memory.New(layer.Config{Capacity: capacity}, memory.WithClock(now),
		memory.WithLogger(logs.Logger()), memory.WithSkipObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range members {
		if err := l.GroupAdd(ctx, "hostile", fmt.Sprintf("member.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The local channel of a subscriber is never full.
	got := 0
	cancel, err := l.Subscribe("local!x", func(sh *layer.Shared) { got++ })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if err := l.GroupAdd(ctx, "hostile", "local!x"); err != nil {
		t.Fatal(err)
	}
	for i := range sends {
		if err := l.GroupSend(ctx, "hostile", note{N: i}); err != nil {
			t.Fatal(err)
		}
		if i == sends/2 {
			mu.Lock()
			clock = clock.Add(layer.DefaultSkipWarnEvery) // a second warning is due
			mu.Unlock()
		}
	}
	want := members * (sends - capacity)
	if n := obs.Skipped("hostile"); n != want {
		t.Errorf("observer counted %d skips, want %d", n, want)
	}
	if got != sends {
		t.Errorf("subscriber got %d messages, want %d", got, sends)
	}
	if err := l.Close(); err != nil { // logs what the rate limit held back
		t.Fatal(err)
	}
	total, lines := layertest.LoggedSkips(logs.String(), "hostile")
	if total != want {
		t.Errorf("warnings report %d skips, want %d:\n%s", total, want, logs)
	}
	if lines > 3 {
		t.Errorf("%d warnings, want at most 3 (rate-limited):\n%s", lines, logs)
	}
}

// TestGroupSendAllSendsToNoneWhenOneIsFull fills one member's channel and
// checks that GroupSendAll fails with a SkipError and leaves every member
// as it was, and that it sends to all once there is room.
func TestGroupSendAllSendsToNoneWhenOneIsFull(t *testing.T) {
	l, err := memory.New(layer.Config{Capacity: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for _, ch := range []string{"a", "b", "c"} {
		if err := l.GroupAdd(ctx, "g", ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Send(ctx, "b", note{N: -1}); err != nil {
		t.Fatal(err)
	}
	err = layer.GroupSendAll(ctx, l, "g", note{N: 1})
	var se *layer.SkipError
	if !errors.As(err, &se) || se.Full != 1 || !errors.Is(err, layer.ErrChannelFull) {
		t.Fatalf("GroupSendAll to a group with a full member: %v, want a SkipError for 1 member wrapping ErrChannelFull", err)
	}
	for _, ch := range []string{"a", "c"} {
		if n := drain(t, l, ch); n != 0 {
			t.Fatalf("%s got %d messages from a failed GroupSendAll", ch, n)
		}
	}
	if n := drain(t, l, "b"); n != 1 {
		t.Fatalf("b holds %d messages, want its own 1", n)
	}
	if err := layer.GroupSendAll(ctx, l, "g", note{N: 2}); err != nil {
		t.Fatalf("GroupSendAll with room: %v", err)
	}
	for _, ch := range []string{"a", "b", "c"} {
		if n := drain(t, l, ch); n != 1 {
			t.Fatalf("%s got %d messages, want 1", ch, n)
		}
	}
}

// drain receives what channel holds and returns how many messages.
func drain(t *testing.T, l *memory.Layer, channel string) int {
	t.Helper()
	n := 0
	for {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // a queued message is still returned
		_, err := l.Receive(ctx, channel)
		if errors.Is(err, context.Canceled) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestSubscriberGetsQueuedThenSentInOrder checks Subscribe: what was
// queued first, then what is sent, in order, the members of one group
// send sharing one Shared, and nothing after cancel.
func TestSubscriberGetsQueuedThenSentInOrder(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.Send(ctx, "p!a", note{N: 0}); err != nil {
		t.Fatal(err)
	}
	var got []int
	shared := map[*layer.Shared]int{}
	sub := func(sh *layer.Shared) {
		got = append(got, sh.Event().(note).N)
		shared[sh]++
	}
	cancelA, err := l.Subscribe("p!a", sub)
	if err != nil {
		t.Fatal(err)
	}
	cancelB, err := l.Subscribe("p!b", sub)
	if err != nil {
		t.Fatal(err)
	}
	defer cancelB()
	if _, err := l.Subscribe("p!a", sub); err == nil {
		t.Fatal("a second subscriber was accepted")
	}
	if _, err := l.Subscribe("plain", sub); !errors.Is(err, layer.ErrInvalidName) {
		t.Fatalf("subscribing to a channel that is not process-local: %v", err)
	}
	for _, ch := range []string{"p!a", "p!b"} {
		if err := l.GroupAdd(ctx, "g", ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Send(ctx, "p!a", note{N: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.GroupSend(ctx, "g", note{N: 2}); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	shares := 0
	for _, n := range shared {
		shares = max(shares, n)
	}
	if shares != 2 {
		t.Fatalf("the group send's members got %d deliveries of one Shared, want 2", shares)
	}
	cancelA()
	if err := l.Send(ctx, "p!a", note{N: 3}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("delivered after cancel: %v", got)
	}
	ev, err := l.Receive(ctx, "p!a")
	if err != nil || ev.(note).N != 3 {
		t.Fatalf("after cancel, Receive got %v, %v; want note 3", ev, err)
	}
}

var _ event.Event = note{}
