package adapters_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

// slowPusher holds every push to conversation "slow" until the test
// lets one through, as a platform's per-chat rate limit does.
type slowPusher struct {
	*fake
	pass    chan struct{}
	waiting chan struct{} // receives when a push to "slow" starts waiting
}

func newSlowPusher() slowPusher {
	return slowPusher{fake: newFake(), pass: make(chan struct{}), waiting: make(chan struct{}, 100)}
}

func (p slowPusher) Push(ctx context.Context, ev event.Event) error {
	if say, _ := event.Decode[event.Say](ev); say.To == "slow" {
		p.waiting <- struct{}{}
		select {
		case <-p.pass:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.sent <- sent{ev: ev}
	return nil
}

func pushSay(t *testing.T, l layer.Layer, to, text string) {
	t.Helper()
	if err := l.Send(context.Background(), adapters.PushChannel("fake"), event.Say{To: to, Text: text}); err != nil {
		t.Fatal(err)
	}
}

func saidIn(t *testing.T, f *fake) event.Say {
	t.Helper()
	say, err := event.Decode[event.Say](recv(t, f.sent).ev)
	if err != nil {
		t.Fatal(err)
	}
	return say
}

// A conversation held back by its rate limit holds back no other, and
// what queues up for it meanwhile is said as one message, in order.
func TestPushesToASlowConversationMergeAndBlockNoOther(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := newSlowPusher()
	f := p.fake
	h := adapters.NewHost(p, adapters.WithPushes(l), quiet())
	run(t, context.Background(), h, newApp(nil))
	recv(t, h.Ready())

	pushSay(t, l, "slow", "first")
	recv(t, p.waiting)
	for _, text := range []string{"a", "b", "c"} {
		pushSay(t, l, "slow", text)
	}
	pushSay(t, l, "fast", "not held back")
	if got := saidIn(t, f); got != (event.Say{To: "fast", Text: "not held back"}) {
		t.Fatalf("pushed %+v first, want the fast conversation's", got)
	}
	p.pass <- struct{}{}
	if got := saidIn(t, f); got != (event.Say{To: "slow", Text: "first"}) {
		t.Fatalf("pushed %+v, want the first", got)
	}
	recv(t, p.waiting)
	p.pass <- struct{}{}
	if got := saidIn(t, f); got != (event.Say{To: "slow", Text: "a\nb\nc"}) {
		t.Fatalf("pushed %+v, want the three queued meanwhile as one", got)
	}
}

// A merged message stays under the smallest platform limit: a long queue
// becomes several messages, none over 1,900 bytes, with every line.
func TestMergedPushesStayUnderTheLimit(t *testing.T) {
	l, err := memory.New(layer.Config{Capacity: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := newSlowPusher()
	f := p.fake
	h := adapters.NewHost(p, adapters.WithPushes(l), quiet())
	run(t, context.Background(), h, newApp(nil))
	recv(t, h.Ready())
	pushSay(t, l, "slow", "first")
	recv(t, p.waiting)
	line := strings.Repeat("x", 99)
	for range 100 {
		pushSay(t, l, "slow", line)
	}
	p.pass <- struct{}{}
	if got := saidIn(t, f); got.Text != "first" {
		t.Fatalf("pushed %q first", got.Text)
	}
	lines := 0
	for lines < 100 {
		recv(t, p.waiting)
		p.pass <- struct{}{}
		got := saidIn(t, f)
		if len(got.Text) > 1900 {
			t.Fatalf("a merged message of %d bytes", len(got.Text))
		}
		lines += len(strings.Split(got.Text, "\n"))
	}
	if lines != 100 {
		t.Fatalf("%d lines said, want 100", lines)
	}
}

// A push a stop cuts short is logged, not dropped silently.
func TestPushesCutShortByAStopAreLogged(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := newSlowPusher()
	var log logtest.Buffer
	h := adapters.NewHost(p, adapters.WithPushes(l), adapters.WithLogger(log.Logger()))
	r := run(t, context.Background(), h, newApp(nil))
	recv(t, h.Ready())
	pushSay(t, l, "slow", "held back")
	recv(t, p.waiting)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = h.Shutdown(ctx)
	r.wait(t)
	log.Await(t, "push failed", wait)
	if !strings.Contains(log.String(), "context canceled") {
		t.Fatalf("the log does not say why:\n%s", log.String())
	}
}

// A Host holds at most 256 pushes in memory: behind a conversation that
// its platform holds back, the rest stay in the layer, where the
// channel's capacity refuses more, for another process to take.
func TestPushesHeldInMemoryAreBounded(t *testing.T) {
	const capacity = 10
	l, err := memory.New(layer.Config{Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := newSlowPusher()
	h := adapters.NewHost(p, adapters.WithPushes(l), quiet())
	run(t, context.Background(), h, newApp(nil))
	recv(t, h.Ready())
	// Send until the channel stays full for a second: the Host takes no
	// more, however long it is given.
	sent, fullSince := 0, time.Time{}
	for sent < 2000 && (fullSince.IsZero() || time.Since(fullSince) < time.Second) {
		err := l.Send(context.Background(), adapters.PushChannel("fake"), event.Say{To: "slow", Text: "x"})
		switch {
		case err == nil:
			sent, fullSince = sent+1, time.Time{}
		case !errors.Is(err, layer.ErrChannelFull):
			t.Fatal(err)
		default:
			if fullSince.IsZero() {
				fullSince = time.Now()
			}
			time.Sleep(5 * time.Millisecond) // nothing to await: the Host takes from the channel when it has room
		}
	}
	// 256 queued, one more taken and waiting for room, and the channel's
	// own capacity.
	if max := 256 + 1 + capacity; sent > max || sent <= capacity {
		t.Fatalf("%d pushes accepted before the channel was full; want more than %d and at most %d", sent, capacity, max)
	}
}
