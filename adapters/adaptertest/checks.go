package adaptertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// TestShutdownDeadline: with a handler stuck and ignoring its context,
// Shutdown(50 ms) returns within 150 ms with its context's error, and Run
// returns; once the handler gives up, the adapter stops cleanly.
func TestShutdownDeadline(t *testing.T, h Harness) {
	a, p, app, r := start(t, h, scope.Config{IdleTimeout: -1})
	p.Say(t, "a", "stuck 1")
	app.next(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := a.Shutdown(ctx)
	took := time.Since(begin)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stuck handler: %v, want context.DeadlineExceeded", err)
	}
	if took > 150*time.Millisecond {
		t.Errorf("Shutdown(50ms) with a stuck handler took %v, want at most 150ms", took)
	}
	if err := r.wait(t, a); !errors.Is(err, adapters.ErrStopped) {
		t.Errorf("Run: %v, want ErrStopped", err)
	}
	app.releaseAll()
	// The scope left behind ends once its handler returns.
	if s := app.next(t); s.reason != scope.ReasonShutdown {
		t.Fatalf("got %+v, want the stuck scope's end with reason shutdown", s)
	}
}

// TestSay: event.Say from a scope's instance reaches the platform in that
// conversation. Needs a SayPlatform.
func TestSay(t *testing.T, h Harness) {
	_, p, app, _ := start(t, h, scope.Config{IdleTimeout: -1})
	if _, ok := p.(SayPlatform); !ok {
		t.Skip("adaptertest: the platform does not implement SayPlatform (SaysChat()); every chat adapter must send chat.say")
	}
	p.Say(t, "a", "say hello there")
	app.next(t)
	if r := app.nextSent(t); r.err != nil {
		t.Fatalf("sending chat.say: %v", r.err)
	}
	if conv, text := p.Reply(t); conv != "a" || text != "hello there" {
		t.Fatalf("the platform got %q in %q, want %q in %q", text, conv, "hello there", "a")
	}
}

// TestPush: an outbound event naming its conversation, pushed without a
// scope (as a worker does through the layer), reaches the platform and
// starts no scope. Needs a PushPlatform.
func TestPush(t *testing.T, h Harness) {
	a, p, app, _ := start(t, h, scope.Config{IdleTimeout: -1})
	pp, ok := p.(PushPlatform)
	if !ok {
		t.Skip("adaptertest: the platform does not implement PushPlatform (PushEvent(conv, text) event.Event)")
	}
	pushed(t, a, p, app, pp.PushEvent("p", "pushed"))
}

// TestPushSay: the chat vocabulary's push, event.Say naming its
// conversation in To, reaches the platform like the adapter's own push
// event, so that a bot relaying between platforms needs none of their
// event types. Needs an AddressPlatform.
func TestPushSay(t *testing.T, h Harness) {
	a, p, app, _ := start(t, h, scope.Config{IdleTimeout: -1})
	ap, ok := p.(AddressPlatform)
	if !ok {
		t.Skip("adaptertest: the platform does not implement AddressPlatform (Address(conv) string)")
	}
	pushed(t, a, p, app, event.Say{To: ap.Address("p"), Text: "pushed"})
}

// pushed pushes ev, which says "pushed" in conversation "p", and checks
// that it reached the platform there and started no scope.
func pushed(t *testing.T, a adapters.Runner, p Platform, app *app, ev event.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := adapters.Push(ctx, a, ev); err != nil {
		t.Fatalf("Push %s: %v", ev.Type(), err)
	}
	if conv, text := p.Reply(t); conv != "p" || text != "pushed" {
		t.Fatalf("the platform got %q in %q, want %q in %q", text, conv, "pushed", "p")
	}
	if l, ok := a.(interface{ Len() int }); ok && l.Len() != 0 {
		t.Errorf("a push left %d live scopes, want none", l.Len())
	}
	select {
	case s := <-app.seen:
		t.Errorf("a push reached the application: %+v", s)
	default:
	}
}

// TestRefused: a call the platform refuses returns a *adapters.RefusedError
// to the instance that made it; the conversation goes on with the same
// instance, and other conversations are answered. Needs a RefusePlatform.
func TestRefused(t *testing.T, h Harness) {
	a, p, app, _ := start(t, h, scope.Config{IdleTimeout: -1})
	rp, ok := p.(RefusePlatform)
	if !ok {
		t.Skip("adaptertest: the platform does not implement RefusePlatform (Refuse(t, conv))")
	}
	rp.Refuse(t, "a")
	refused := func(text string) int64 {
		t.Helper()
		p.Say(t, "a", text)
		app.next(t)
		r := app.nextSent(t)
		var re *adapters.RefusedError
		if !errors.As(r.err, &re) || !errors.Is(r.err, adapters.ErrRefused) {
			t.Fatalf("a refused send returned %v, want a *adapters.RefusedError", r.err)
		}
		if re.Adapter != a.Name() || re.Method == "" || re.Code == "" {
			t.Errorf("RefusedError %+v: want the adapter's name (%q), the platform's method and its code", re, a.Name())
		}
		return r.instance
	}
	first := refused("one")
	p.Say(t, "b", "two")
	app.next(t)
	if r := app.nextSent(t); r.err != nil {
		t.Fatalf("answering conversation b after a refusal in a: %v", r.err)
	}
	if conv, text := p.Reply(t); conv != "b" || text != "echo: two" {
		t.Fatalf("the platform got %q in %q, want %q in %q", text, conv, "echo: two", "b")
	}
	// A final event in between would have been taken by app.next above.
	if second := refused("three"); second != first {
		t.Fatalf("after a refusal, conversation a moved from instance %d to %d: the adapter ended its scope", first, second)
	}
}

// TestAckAfterHandling: the adapter acknowledges a message to its platform
// only once its handler returned. While a handler is blocked the platform
// sees no acknowledgement of its message; when the adapter is stopped
// hard mid-event (Run's context cancelled, the nearest a test comes to a
// crash), the message stays unacknowledged, so the platform sends it
// again. Needs an AckPlatform.
func TestAckAfterHandling(t *testing.T, h Harness) {
	a, p, app, r := start(t, h, scope.Config{IdleTimeout: -1})
	ap, ok := p.(AckPlatform)
	if !ok {
		t.Skip("adaptertest: the platform does not implement AckPlatform (Acked(t, conv) int)")
	}
	p.Say(t, "a", "first")
	app.next(t)
	if _, text := p.Reply(t); text != "echo: first" {
		t.Fatalf("reply %q, want %q", text, "echo: first")
	}
	eventually(t, "the handled message acknowledged", func() bool { return ap.Acked(t, "a") == 1 })

	p.Say(t, "a", "block 2")
	app.next(t) // its handler runs, and waits
	p.Say(t, "b", "meanwhile")
	app.next(t)
	if _, text := p.Reply(t); text != "echo: meanwhile" {
		t.Fatalf("reply %q, want %q", text, "echo: meanwhile")
	}
	if n := ap.Acked(t, "a"); n != 1 {
		t.Fatalf("the platform saw %d acknowledgements in a while its second message's handler runs, want 1", n)
	}

	r.cancel()
	r.wait(t, a)
	if n := ap.Acked(t, "a"); n != 1 {
		t.Fatalf("after a hard stop mid-event, the platform saw %d acknowledgements in a, want 1: the message cut short is lost", n)
	}
}

// TestReconnect: after the platform drops the adapter's connection, the
// adapter reconnects by itself; the conversation goes on with the same
// instance. Needs a DropPlatform.
func TestReconnect(t *testing.T, h Harness) {
	a, p, app, r := start(t, h, scope.Config{IdleTimeout: -1})
	dp, ok := p.(DropPlatform)
	if !ok {
		t.Skip("adaptertest: the platform does not implement DropPlatform (Drop(t))")
	}
	p.Say(t, "a", "before")
	before := app.next(t)
	if _, text := p.Reply(t); text != "echo: before" {
		t.Fatalf("reply %q, want %q", text, "echo: before")
	}
	dp.Drop(t)
	p.Say(t, "a", "after")
	after := app.next(t)
	if after.text != "after" || after.instance != before.instance {
		t.Fatalf("after the drop: %+v, want %q in instance %d", after, "after", before.instance)
	}
	if conv, text := p.Reply(t); conv != "a" || text != "echo: after" {
		t.Fatalf("the platform got %q in %q after the drop, want %q in %q", text, conv, "echo: after", "a")
	}
	select {
	case <-r.done:
		t.Fatalf("%s.Run returned after the drop: %v", a.Name(), r.err)
	default:
	}
}

// eventually waits until cond holds, failing the test after Timeout. It
// polls, since a platform offers counts rather than channels.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(Timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("adaptertest: not within the timeout: %s", what)
		}
	}
}
