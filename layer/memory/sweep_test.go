package memory

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

type ping struct{ N int }

func (ping) Type() string { return "test.ping" }

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestLayer(t testing.TB, cfg layer.Config) (*Layer, *testClock) {
	t.Helper()
	clock := &testClock{now: time.Unix(1e9, 0)}
	l, err := New(cfg, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, clock
}

func (l *Layer) channelCount() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		if len(s.channels) != len(s.list) {
			panic("shard map and list disagree")
		}
		n += len(s.channels)
		s.mu.Unlock()
	}
	return n
}

func (l *Layer) groupCount() int {
	l.groups.mu.Lock()
	defer l.groups.mu.Unlock()
	return len(l.groups.byName)
}

func (l *Layer) memberCount(group string) int {
	l.groups.mu.Lock()
	defer l.groups.mu.Unlock()
	if g := l.groups.byName[group]; g != nil {
		return len(g.members)
	}
	return 0
}

func TestShortLivedChannelsAreReclaimed(t *testing.T) {
	l, _ := newTestLayer(t, layer.Config{})
	ctx := t.Context()
	for i := range 50_000 {
		ch := fmt.Sprintf("reply!%d", i)
		if err := l.Send(ctx, ch, ping{i}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Receive(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.channelCount(); n > 1000 {
		t.Fatalf("%d channels left after 50,000 short-lived ones", n)
	}
}

func TestUnreadChannelsAreReclaimedAfterExpiry(t *testing.T) {
	l, clock := newTestLayer(t, layer.Config{Expiry: time.Minute})
	ctx := t.Context()
	const n = 10_000
	for i := range n {
		if err := l.Send(ctx, fmt.Sprintf("unread.%d", i), ping{i}); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.channelCount(); got != n {
		t.Fatalf("%d channels, want %d", got, n)
	}
	clock.Advance(time.Minute)
	for i := range n {
		ch := fmt.Sprintf("later.%d", i)
		if err := l.Send(ctx, ch, ping{i}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Receive(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.channelCount(); got > n/5 {
		t.Fatalf("%d channels left, want the expired ones reclaimed", got)
	}
}

func TestLapsedMembershipsAreReclaimed(t *testing.T) {
	l, clock := newTestLayer(t, layer.Config{GroupExpiry: time.Hour})
	ctx := t.Context()
	const n = 10_000
	for i := range n {
		if err := l.GroupAdd(ctx, "room", fmt.Sprintf("old.%d", i)); err != nil {
			t.Fatal(err)
		}
		if err := l.GroupAdd(ctx, fmt.Sprintf("user.%d", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)
	for i := range n {
		if err := l.GroupAdd(ctx, "room", fmt.Sprintf("new.%d", i)); err != nil {
			t.Fatal(err)
		}
		if err := l.GroupAdd(ctx, fmt.Sprintf("other.%d", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.memberCount("room"); got > n+n/10 {
		t.Errorf("room has %d members, want about %d", got, n)
	}
	if got := l.groupCount(); got > n+n/10 {
		t.Errorf("%d groups, want about %d", got, n+1)
	}
}

func TestExpiryBoundary(t *testing.T) {
	l, clock := newTestLayer(t, layer.Config{Expiry: time.Minute})
	ctx := t.Context()
	for _, c := range []struct {
		age  time.Duration
		kept bool
	}{{time.Minute - time.Nanosecond, true}, {time.Minute, false}} {
		if err := l.Send(ctx, "c", ping{1}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(c.age)
		short, cancel := context.WithTimeout(ctx, 0)
		_, err := l.Receive(short, "c")
		cancel()
		if kept := err == nil; kept != c.kept {
			t.Errorf("message aged %s: kept %v, want %v", c.age, kept, c.kept)
		}
	}
}

func TestCancelledReceiversLeaveNoWaiters(t *testing.T) {
	l, _ := newTestLayer(t, layer.Config{})
	for range 100 {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = l.Receive(ctx, "c")
		}()
		cancel()
		<-done
	}
	s := &l.shards[l.shardIndex("c")]
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels["c"]; c != nil && c.first != nil {
		t.Fatal("a cancelled receiver is still queued")
	}
}

func TestNoAllocationPerMessage(t *testing.T) {
	// Groups up to smallGroup and larger ones take different paths.
	for _, members := range []int{5, 200} {
		t.Run(fmt.Sprint(members), func(t *testing.T) { testNoAllocation(t, members) })
	}
}

func testNoAllocation(t *testing.T, members int) {
	const capacity = 200
	l, _ := newTestLayer(t, layer.Config{Capacity: capacity})
	ctx := t.Context()
	names := make([]string, members)
	for i := range names {
		names[i] = fmt.Sprintf("m.%d", i)
		if err := l.GroupAdd(ctx, "g", names[i]); err != nil {
			t.Fatal(err)
		}
	}
	var ev event.Event = ping{1}
	// Grow every queue to its final size first: growth is amortised, not
	// per message.
	for range capacity {
		if err := l.GroupSend(ctx, "g", ev); err != nil {
			t.Fatal(err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	// A Receive whose context has ended still takes what is queued.
	drain := func() {
		for _, ch := range names {
			for {
				if _, err := l.Receive(cancelled, ch); err != nil {
					break
				}
			}
		}
	}
	drain()
	if allocs := testing.AllocsPerRun(100, func() { _ = l.GroupSend(ctx, "g", ev) }); allocs != 0 {
		t.Errorf("GroupSend to %d members: %v allocations, want 0", members, allocs)
	}
	drain()
	pair := func() {
		_ = l.Send(ctx, names[0], ev)
		_, _ = l.Receive(ctx, names[0])
	}
	if allocs := testing.AllocsPerRun(1000, pair); allocs != 0 {
		t.Errorf("Send and Receive: %v allocations, want 0", allocs)
	}
}

// A group member caches its channel; once the sweep has deleted that
// channel and another channel reuses the memory, a group send must still
// reach the member's own channel.
func TestGroupSendAfterChannelReuse(t *testing.T) {
	l, _ := newTestLayer(t, layer.Config{})
	ctx := t.Context()
	if err := l.GroupAdd(ctx, "g", "a"); err != nil {
		t.Fatal(err)
	}
	if err := l.GroupSend(ctx, "g", ping{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Receive(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s := &l.shards[l.shardIndex("a")]
	old := s.channels["a"]
	reused := ""
	for i := 0; reused == "" && i < 100_000; i++ {
		ch := fmt.Sprintf("churn.%d", i)
		if &l.shards[l.shardIndex(ch)] != s {
			continue
		}
		if err := l.Send(ctx, ch, ping{i}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Receive(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if s.channels[ch] == old {
			reused = ch
		}
	}
	if reused == "" {
		t.Fatal("the channel was never reused")
	}
	if err := l.GroupSend(ctx, "g", ping{2}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 0) // the message is queued or lost
	defer cancel()
	if ev, err := l.Receive(short, "a"); err != nil || ev != (ping{2}) {
		t.Fatalf("member received %v, %v", ev, err)
	}
	if old.n != 0 {
		t.Fatalf("%q, which reused the member's old channel, received the group message", reused)
	}
}
