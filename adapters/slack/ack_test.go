package slack_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// holding blocks the handling of channel's events until the test lets
// each go, and reports each one it holds and each it let go.
type holding struct {
	channel  string
	held     chan string // the text of each event as its handling starts
	release  chan struct{}
	returned chan string // the text of each event as its handler returns
}

func newHolding(channel string) *holding {
	return &holding{channel: channel, held: make(chan string, 10), release: make(chan struct{}),
		returned: make(chan string, 10)}
}

func (h *holding) handle(ctx context.Context, _ scope.Conn, s *scope.Scope, ev event.Event) error {
	m, ok := ev.(slack.Message)
	if !ok || s.Chat.ID != h.channel {
		return nil
	}
	h.held <- m.Text
	<-h.release
	h.returned <- m.Text
	return nil
}

func (h *holding) awaitHeld(t *testing.T, text string) {
	t.Helper()
	select {
	case got := <-h.held:
		if got != text {
			t.Fatalf("handling %q, want %q", got, text)
		}
	case <-time.After(fakeslack.Timeout):
		t.Fatalf("%q was not handled", text)
	}
}

func (h *holding) letGo(t *testing.T, text string) {
	t.Helper()
	h.release <- struct{}{}
	select {
	case got := <-h.returned:
		if got != text {
			t.Fatalf("returned from %q, want %q", got, text)
		}
	case <-time.After(fakeslack.Timeout):
		t.Fatalf("the handler of %q did not return", text)
	}
}

// TestSocketAckOnceHandled: Socket Mode acknowledges an envelope once its
// handler returned, not when it was queued; one whose handler keeps
// running is acknowledged at the deadline, not before.
func TestSocketAckOnceHandled(t *testing.T) {
	clk := newManualClock()
	e := newEnv(t, slack.ModeSocket, nil, clk.option())
	h := newHolding("CSLOW")
	e.run(t, newRecorder(h.handle))

	// Acknowledged once handled.
	slow, _ := e.fake.PushEvent(e.fake.Message("CSLOW", "U1", "first"))
	h.awaitHeld(t, "first")
	// Acknowledgements flow meanwhile (in order, on one connection): a
	// later envelope of another conversation is acknowledged, the held
	// one is not.
	e.fake.WaitAcked(t, e.fake.PushEventBody(mustBody(e, "CFAST", "quick")))
	if e.fake.Acked(slow) {
		t.Fatal("an envelope was acknowledged while its handler ran")
	}
	h.letGo(t, "first")
	e.fake.WaitAcked(t, slow)

	// Acknowledged at the deadline while still being handled.
	slow, _ = e.fake.PushEvent(e.fake.Message("CSLOW", "U1", "second"))
	h.awaitHeld(t, "second")
	clk.Advance(slack.DefaultAckDeadline - time.Millisecond)
	e.fake.WaitAcked(t, e.fake.PushEventBody(mustBody(e, "CFAST", "quick again")))
	if e.fake.Acked(slow) {
		t.Fatal("an envelope was acknowledged before its deadline")
	}
	clk.Advance(time.Millisecond)
	e.fake.WaitAcked(t, slow)
	select {
	case text := <-h.returned:
		t.Fatalf("the handler of %q returned: the ack was not at the deadline", text)
	default:
	}
	h.letGo(t, "second")
	if n := countAcks(e.fake.Acks(), slow); n != 1 {
		t.Fatalf("envelope %s acknowledged %d times", slow, n)
	}
}

// TestHTTPAckOnceHandled: the Events API request is answered 200 once the
// handler returned, or at the deadline if it keeps running, never before.
func TestHTTPAckOnceHandled(t *testing.T) {
	clk := newManualClock()
	e := newEnv(t, slack.ModeHTTP, nil, clk.option())
	h := newHolding("CSLOW")
	e.run(t, newRecorder(h.handle))
	post := func(channel, text string) <-chan int {
		done := make(chan int, 1)
		go func() {
			res, _ := e.fake.PostEvent(t, e.endpoint+"/slack/events", e.fake.Message(channel, "U1", text))
			done <- res.Status
		}()
		return done
	}
	answered := func(ch <-chan int) int {
		t.Helper()
		select {
		case st := <-ch:
			return st
		case <-time.After(fakeslack.Timeout):
			t.Fatal("no answer")
			return 0
		}
	}

	first := post("CSLOW", "first")
	h.awaitHeld(t, "first")
	if st := answered(post("CFAST", "quick")); st != http.StatusOK {
		t.Fatalf("another conversation answered %d", st)
	}
	select {
	case st := <-first:
		t.Fatalf("answered %d while the handler ran", st)
	default:
	}
	h.letGo(t, "first")
	if st := answered(first); st != http.StatusOK {
		t.Fatalf("answered %d once handled", st)
	}

	second := post("CSLOW", "second")
	h.awaitHeld(t, "second")
	clk.Advance(slack.DefaultAckDeadline)
	if st := answered(second); st != http.StatusOK {
		t.Fatalf("answered %d at the deadline", st)
	}
	select {
	case text := <-h.returned:
		t.Fatalf("the handler of %q returned: the answer was not at the deadline", text)
	default:
	}
	h.letGo(t, "second")
}

func mustBody(e *env, channel, text string) []byte {
	b, _ := e.fake.EventBody(e.fake.Message(channel, "U2", text))
	return b
}

func countAcks(acks []fakeslack.Ack, id string) int {
	n := 0
	for _, a := range acks {
		if a.EnvelopeID == id {
			n++
		}
	}
	return n
}

// TestHTTPShutdownAnswersTaken: an update taken before Shutdown is answered
// 200 once its handler returns during Shutdown; one that comes after is
// turned away with 503, for Slack to send again.
func TestHTTPShutdownAnswersTaken(t *testing.T) {
	clk := newManualClock()
	e := newEnv(t, slack.ModeHTTP, nil, clk.option())
	h := newHolding("CSLOW")
	e.run(t, newRecorder(h.handle))
	taken := make(chan int, 1)
	go func() {
		res, _ := e.fake.PostEvent(t, e.endpoint+"/slack/events", e.fake.Message("CSLOW", "U1", "taken"))
		taken <- res.Status
	}()
	h.awaitHeld(t, "taken")
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), fakeslack.Timeout)
		defer cancel()
		stopped <- e.h.Shutdown(ctx)
	}()
	// Shutdown turns new updates away at once, while the held one waits.
	for deadline := time.Now().Add(fakeslack.Timeout); ; {
		if time.Now().After(deadline) {
			t.Fatal("updates still taken during Shutdown")
		}
		res, _ := e.fake.PostEvent(t, e.endpoint+"/slack/events", e.fake.Message("CLATE", "U1", "late"))
		if res.Status == http.StatusServiceUnavailable {
			break
		}
		if res.Status != http.StatusOK {
			t.Fatalf("an update during Shutdown answered %d", res.Status)
		}
	}
	select {
	case st := <-taken:
		t.Fatalf("answered %d before its handler returned", st)
	default:
	}
	h.letGo(t, "taken")
	select {
	case st := <-taken:
		if st != http.StatusOK {
			t.Fatalf("answered %d once handled", st)
		}
	case <-time.After(fakeslack.Timeout):
		t.Fatal("no answer")
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
