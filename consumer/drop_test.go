package consumer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/internal/logtest"
)

// drops counts what consumers report to their DropObserver.
type drops struct {
	mu sync.Mutex
	n  map[string]int // "type reason" → drops
}

func (d *drops) LayerMessageDropped(typ, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[typ+" "+reason]++
}

func (d *drops) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.n))
	for k, v := range d.n {
		out[k] = v
	}
	return out
}

var _ consumer.DropObserver = (*drops)(nil)

// room is two connected members of newMember's room, sharing one
// WithLayer, as the consumers of one server do.
func room(t *testing.T, opts ...consumer.LayerOption) (a, b *consumertest.WebSocket, logs *logtest.Buffer, obs *drops, send func(event.Event)) {
	t.Helper()
	l := newLayer(t)
	logs, obs = new(logtest.Buffer), new(drops)
	app := consumer.WithLogger(logs.Logger())(
		consumer.WithLayer(l, append([]consumer.LayerOption{consumer.ObserveDrops(obs)}, opts...)...)(newMember()))
	a = consumertest.NewWebSocket(t, app, "/room/")
	b = consumertest.NewWebSocket(t, app, "/room/")
	for _, c := range []*consumertest.WebSocket{a, b} {
		if ok, _, _ := c.Connect(); !ok {
			t.Fatal("not accepted")
		}
	}
	send = func(ev event.Event) {
		t.Helper()
		if err := l.GroupSend(context.Background(), "room", ev); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, logs, obs, send
}

// A foreign process's message of a type the consumer has no handler for,
// and one whose fields do not fit its handler's type, are dropped: the
// members stay connected and get the next message; one warning per type
// for both members; every drop counted.
func TestLayerMessagesThatCannotBeHandledAreDroppedAndTheScopeGoesOn(t *testing.T) {
	a, b, logs, obs, send := room(t)

	send(event.Message{"type": "chat.message", "message": "from django"})
	send(event.Message{"type": "room.said", "text": 42})
	send(event.Message{"type": "room.said", "text": "still here?"})
	for _, c := range []*consumertest.WebSocket{a, b} {
		if got := c.ReceiveText(); got != "room: still here?" {
			t.Fatalf("got %q, want the next good message", got)
		}
	}

	want := map[string]int{"chat.message no_handler": 2, "room.said undecodable": 2}
	if got := obs.counts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observer got %v, want %v", got, want)
	}
	out := logs.String()
	for typ, reason := range map[string]string{"chat.message": "no_handler", "room.said": "undecodable"} {
		line := "type=" + typ + " "
		if n := strings.Count(out, line); n != 1 {
			t.Errorf("%d warnings for %s, want 1:\n%s", n, typ, out)
		}
		if !strings.Contains(out, "reason="+reason) || !strings.Contains(out, "channel=specific.") {
			t.Errorf("the warning lacks the reason %s or the channel:\n%s", reason, out)
		}
	}
	if !strings.Contains(out, `has no handler for event \"chat.message\"`) || !strings.Contains(out, "does not decode") {
		t.Errorf("the warnings lack the errors:\n%s", out)
	}

	// The members are still in the room, both ways.
	a.SendText("hi")
	for _, c := range []*consumertest.WebSocket{a, b} {
		if got := c.ReceiveText(); got != "room: hi" {
			t.Fatalf("got %q", got)
		}
	}
	a.Disconnect(wsevent.CloseNormal)
	b.Disconnect(wsevent.CloseNormal)
}

// The warning for a type comes again once the interval has passed, with
// the number of drops it did not log.
func TestDropWarningsAreRateLimitedPerType(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b, logs, obs, send := room(t, consumer.DropWarnEvery(time.Minute), consumer.DropClock(clock))
	flush := func(text string) {
		t.Helper()
		send(event.Message{"type": "room.said", "text": text})
		for _, c := range []*consumertest.WebSocket{a, b} {
			if got := c.ReceiveText(); got != "room: "+text {
				t.Fatalf("got %q", got)
			}
		}
	}
	for range 3 {
		send(event.Message{"type": "chat.message", "message": "x"})
	}
	flush("one")
	if n := strings.Count(logs.String(), "type=chat.message"); n != 1 {
		t.Fatalf("%d warnings within the interval, want 1:\n%s", n, logs)
	}
	clock.Advance(time.Minute)
	send(event.Message{"type": "chat.message", "message": "x"})
	flush("two")
	out := logs.String()
	if n := strings.Count(out, "type=chat.message"); n != 2 {
		t.Fatalf("%d warnings after the interval, want 2:\n%s", n, out)
	}
	// Two members dropped three each; one of the six was logged.
	if !strings.Contains(out, "suppressed=5") {
		t.Errorf("the second warning does not count the 5 drops it did not log:\n%s", out)
	}
	if got := obs.counts()["chat.message no_handler"]; got != 8 {
		t.Errorf("observer counted %d drops, want 8", got)
	}
}

// A sender that makes up types cannot grow the observer's label set, or
// the warnings, without bound; a type that is not valid UTF-8 is "other".
func TestDropTypesAreBounded(t *testing.T) {
	a, b, logs, obs, send := room(t)
	b.Disconnect(wsevent.CloseNormal)
	for i := range 300 {
		send(event.Message{"type": fmt.Sprintf("made.up%d", i)})
		if i%50 == 49 { // within the channel's capacity
			send(event.Message{"type": "room.said", "text": "next"})
			if got := a.ReceiveText(); got != "room: next" {
				t.Fatalf("got %q", got)
			}
		}
	}
	send(event.Message{"type": "bad.\xff"})
	send(event.Message{"type": "room.said", "text": "done"})
	if got := a.ReceiveText(); got != "room: done" {
		t.Fatalf("got %q", got)
	}
	got := obs.counts()
	if len(got) != 257 || got["other no_handler"] != 300-256+1 {
		t.Errorf("observer got %d types, %d of them other; want 256 and other with 45", len(got), got["other no_handler"])
	}
	if n := strings.Count(logs.String(), "layer message dropped"); n != 257 {
		t.Errorf("%d warnings, want one per type the observer saw (257)", n)
	}
}

// A platform event with no handler is still the bot's mistake: the scope
// ends with an error naming the type.
func TestPlatformEventWithNoHandlerStillEndsTheScope(t *testing.T) {
	c := consumertest.NewWebSocket(t, newMember(), "/room/", consumertest.WithLayer(newLayer(t)))
	c.Connect()
	c.Send(event.Message{"type": "websocket.something"})
	if end := c.WaitEnded(); end.Reason != "error" {
		t.Fatalf("ended %+v", end)
	}
	if !strings.Contains(c.Logs(), `has no handler for event \"websocket.something\"`) {
		t.Fatalf("log lacks the type:\n%s", c.Logs())
	}
}
