package adapters_test

import (
	"context"
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
