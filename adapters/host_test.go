package adapters_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/scope"

	"github.com/switchboard-bots/switchboard/internal/logtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait of these tests; nothing here should take long.
const wait = 5 * time.Second

// note is the fake platform's one inbound and outbound event.
type note struct {
	Text string `msgpack:"text"`
}

func (note) Type() string { return "fake.note" }

// sent is one outbound event the fake adapter was asked to make.
type sent struct {
	key string // the scope's key, or "" for a push
	ev  event.Event
}

// fake is the smallest Adapter: Serve hands its Intake to the test and
// waits for its context to end, unless the test gives it another serve.
type fake struct {
	serve  func(ctx context.Context, in *adapters.Intake) error
	intake chan *adapters.Intake
	sent   chan sent
}

var _ adapters.Adapter = (*fake)(nil)

func newFake() *fake {
	return &fake{intake: make(chan *adapters.Intake, 1), sent: make(chan sent, 100)}
}

func (f *fake) Name() string { return "fake" }

func (f *fake) Serve(ctx context.Context, in *adapters.Intake) error {
	if f.serve != nil {
		return f.serve(ctx, in)
	}
	in.Ready()
	f.intake <- in
	<-ctx.Done()
	return nil
}

func (f *fake) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	f.sent <- sent{key: s.Key, ev: ev}
	return nil
}

// pushingFake is a fake that can push.
type pushingFake struct{ *fake }

var _ adapters.Pusher = pushingFake{}

func (f pushingFake) Push(_ context.Context, ev event.Event) error {
	f.sent <- sent{ev: ev}
	return nil
}

// newScope builds the scope of conversation key, as an adapter does.
func newScope() *scope.Scope { return &scope.Scope{Type: "fake", Adapter: "fake"} }

// handled is one event an instance of app saw, or its end.
type handled struct {
	key    string
	text   string
	reason scope.Reason // set for the final event
	ctxErr error        // the handler's context's error when it returned
}

// app is the application of these tests: handle decides what each note
// does, and every event is reported on seen once handled.
type app struct {
	handle func(ctx context.Context, s *scope.Scope, n note) error
	seen   chan handled
}

func newApp(handle func(ctx context.Context, s *scope.Scope, n note) error) *app {
	return &app{handle: handle, seen: make(chan handled, 100)}
}

func (a *app) NewInstance(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		switch ev := ev.(type) {
		case note:
			var err error
			if a.handle != nil {
				err = a.handle(ctx, s, ev)
			}
			a.seen <- handled{key: s.Key, text: ev.Text, ctxErr: ctx.Err()}
			return err
		case scope.Final:
			a.seen <- handled{key: s.Key, reason: ev.EndReason()}
		}
		return nil
	}), nil
}

func (a *app) next(t *testing.T) handled {
	t.Helper()
	select {
	case h := <-a.seen:
		return h
	case <-time.After(wait):
		t.Fatal("the application saw nothing")
		return handled{}
	}
}

// running is a Host running in the background.
type running struct {
	h    *adapters.Host
	done chan struct{}
	err  error // Run's result, once done is closed
}

// run runs h with ap until the test ends, when it is stopped if it still
// runs.
func run(t *testing.T, ctx context.Context, h *adapters.Host, ap scope.Application) *running {
	t.Helper()
	r := &running{h: h, done: make(chan struct{})}
	go func() { r.err = h.Run(ctx, ap); close(r.done) }()
	t.Cleanup(func() {
		_ = h.Close()
		r.wait(t)
	})
	return r
}

// wait waits for Run to return and returns its error.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(wait):
		t.Fatal("Run did not return")
		return nil
	}
}

func recv[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(wait):
		t.Fatal("nothing arrived")
		var zero T
		return zero
	}
}

func quiet() adapters.HostOption {
	return adapters.WithLogger(slog.New(slog.NewTextHandler(discard{}, nil)))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestRunTwice(t *testing.T) {
	h := adapters.NewHost(newFake(), quiet())
	r := run(t, context.Background(), h, newApp(nil))
	<-h.Ready()
	if err := h.Run(context.Background(), newApp(nil)); !errors.Is(err, adapters.ErrRunning) {
		t.Fatalf("second Run while running: %v, want ErrRunning", err)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := r.wait(t); !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run: %v, want ErrStopped", err)
	}
	if err := h.Run(context.Background(), newApp(nil)); !errors.Is(err, adapters.ErrRunning) {
		t.Fatalf("Run after a Run returned: %v, want ErrRunning", err)
	}
}

func TestShutdownBeforeRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := newFake()
	f.serve = func(context.Context, *adapters.Intake) error {
		t.Error("Serve called after Shutdown")
		return nil
	}
	h := adapters.NewHost(f, quiet())
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown before Run: %v", err)
	}
	if err := h.Run(context.Background(), newApp(nil)); !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run after Shutdown: %v, want ErrStopped", err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("Close after Shutdown: %v", err)
	}
}

func TestReadyOnceTheAdapterServes(t *testing.T) {
	serving := make(chan struct{})
	f := newFake()
	f.serve = func(ctx context.Context, in *adapters.Intake) error {
		<-serving
		in.Ready()
		in.Ready() // later calls do nothing
		<-ctx.Done()
		return nil
	}
	h := adapters.NewHost(f, quiet())
	r := run(t, context.Background(), h, newApp(nil))
	select {
	case <-h.Ready():
		t.Fatal("Ready closed before the adapter said it serves")
	case <-r.done:
		t.Fatalf("Run returned: %v", r.err)
	default:
	}
	close(serving)
	recv(t, h.Ready())
}

func TestServeFailureEndsEveryScope(t *testing.T) {
	lost := errors.New("connection lost")
	f := newFake()
	f.serve = func(ctx context.Context, in *adapters.Intake) error {
		in.Ready()
		done := make(chan error, 2)
		for _, key := range []string{"a", "b"} {
			if err := in.Deliver(ctx, key, note{key}, newScope, func(err error) { done <- err }); err != nil {
				return err
			}
		}
		for range 2 {
			if err := <-done; err != nil {
				return err
			}
		}
		return lost
	}
	ap := newApp(nil)
	h := adapters.NewHost(f, quiet())
	r := run(t, context.Background(), h, ap)
	err := r.wait(t)
	if !errors.Is(err, lost) || !strings.HasPrefix(err.Error(), "fake: ") {
		t.Fatalf("Run: %v, want the adapter's error, named", err)
	}
	// Run returned after ending every scope: their final events are in.
	ended := map[string]scope.Reason{}
	for len(ap.seen) > 0 {
		if e := <-ap.seen; e.reason != "" {
			ended[e.key] = e.reason
		}
	}
	for _, key := range []string{"a", "b"} {
		if ended[key] != scope.ReasonShutdown {
			t.Errorf("scope %s: ended %q before Run returned, want %q", key, ended[key], scope.ReasonShutdown)
		}
	}
}

// TestContextCancelIsAHardStop: cancelling Run's context stops like Close:
// handlers see their context cancelled, every scope ends, and Run returns
// the context's error, even while Serve waits for its in-flight events to
// be acknowledged (as a webhook does, bounded by Grace).
func TestContextCancelIsAHardStop(t *testing.T) {
	started := make(chan struct{})
	f := newFake()
	f.serve = func(ctx context.Context, in *adapters.Intake) error {
		in.Ready()
		acked := make(chan error, 1)
		if err := in.Deliver(ctx, "a", note{"slow"}, newScope, func(err error) { acked <- err }); err != nil {
			return err
		}
		<-ctx.Done()
		// Hand over what was taken: wait for its acknowledgement, as long
		// as the Host lets us.
		select {
		case <-acked:
		case <-in.Grace().Done():
		}
		return nil
	}
	ap := newApp(func(ctx context.Context, _ *scope.Scope, _ note) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	h := adapters.NewHost(f, quiet())
	r := run(t, ctx, h, ap)
	recv(t, started)
	cancel()
	if err := r.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if e := ap.next(t); !errors.Is(e.ctxErr, context.Canceled) {
		t.Fatalf("the handler returned with its context at %v, want it cancelled", e.ctxErr)
	}
	// The handler returned its context's error: the scope ends for that
	// (reason error) or for the stop (reason shutdown), whichever the
	// manager saw first.
	if e := ap.next(t); e.reason != scope.ReasonShutdown && e.reason != scope.ReasonError {
		t.Fatalf("got %+v, want the scope's end", e)
	}
}

func TestPushesFromTheLayerReachThePusher(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := newFake()
	h := adapters.NewHost(pushingFake{f}, adapters.WithPushes(l), quiet())
	run(t, context.Background(), h, newApp(nil))
	recv(t, h.Ready())
	if err := l.Send(context.Background(), adapters.PushChannel("fake"), note{"from a worker"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, f.sent); got.key != "" || got.ev != (note{"from a worker"}) {
		t.Fatalf("pushed %+v, want the note, with no scope", got)
	}
	if err := h.Push(context.Background(), note{"direct"}); err != nil {
		t.Fatalf("Host.Push: %v", err)
	}
	if got := recv(t, f.sent); got.ev != (note{"direct"}) {
		t.Fatalf("pushed %+v, want the direct note", got)
	}
	if n := h.Len(); n != 0 {
		t.Fatalf("pushes made %d scopes, want none", n)
	}
}

func TestPushWithoutAPusherIsUnsupported(t *testing.T) {
	h := adapters.NewHost(newFake(), quiet())
	if err := h.Push(context.Background(), note{"x"}); !errors.Is(err, adapters.ErrUnsupported) {
		t.Fatalf("Push: %v, want ErrUnsupported", err)
	}
}

// TestAckOnceHandled: Deliver's ack comes after the handler returned, not
// when the event was queued.
func TestAckOnceHandled(t *testing.T) {
	release := make(chan struct{})
	var returned atomic.Bool
	ap := newApp(func(context.Context, *scope.Scope, note) error {
		<-release
		returned.Store(true)
		return nil
	})
	f := newFake()
	h := adapters.NewHost(f, quiet())
	run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	acked := make(chan bool, 1)
	if err := in.Deliver(context.Background(), "a", note{"x"}, newScope, func(err error) {
		if err != nil {
			t.Errorf("ack: %v, want nil", err)
		}
		acked <- returned.Load()
	}); err != nil {
		t.Fatal(err)
	}
	// An early ack would have recorded false: the handler is still held.
	close(release)
	if !recv(t, acked) {
		t.Fatal("acknowledged before its handler returned")
	}
}

// TestAckOfADroppedEvent: an event that will not be handled here gets an
// error wrapping scope.ErrNotHandled, so that the platform sends it again.
func TestAckOfADroppedEvent(t *testing.T) {
	release := make(chan struct{})
	ap := newApp(func(_ context.Context, _ *scope.Scope, n note) error {
		if n.Text == "fails" {
			<-release
			return errors.New("boom")
		}
		return nil
	})
	f := newFake()
	h := adapters.NewHost(f, quiet())
	run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	type ack struct {
		text string
		err  error
	}
	acks := make(chan ack, 2)
	for _, text := range []string{"fails", "queued"} {
		if err := in.Deliver(context.Background(), "a", note{text}, newScope, func(err error) { acks <- ack{text, err} }); err != nil {
			t.Fatal(err)
		}
	}
	// The peer went away: the scope ends after what is queued; then its
	// instance fails, and nothing can handle "queued" in this scope.
	if !in.End("a", adapters.Disconnect{Protocol: "fake", Reason: scope.ReasonClosed}) {
		t.Fatal("End found no scope")
	}
	close(release)
	got := map[string]error{}
	for range 2 {
		a := recv(t, acks)
		got[a.text] = a.err
	}
	if err := got["fails"]; err != nil {
		t.Errorf("ack of the failed event: %v, want nil (it was handled)", err)
	}
	if err := got["queued"]; !errors.Is(err, scope.ErrNotHandled) {
		t.Errorf("ack of the dropped event: %v, want ErrNotHandled", err)
	}
}

// TestAckOfAnEventCutShortByClose: a handler that returns because Close
// cancelled its context did not handle its event: it must not be
// acknowledged.
func TestAckOfAnEventCutShortByClose(t *testing.T) {
	started := make(chan struct{})
	ap := newApp(func(ctx context.Context, _ *scope.Scope, _ note) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	f := newFake()
	h := adapters.NewHost(f, quiet())
	run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	acked := make(chan error, 1)
	if err := in.Deliver(context.Background(), "a", note{"x"}, newScope, func(err error) { acked <- err }); err != nil {
		t.Fatal(err)
	}
	recv(t, started)
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := recv(t, acked); !errors.Is(err, scope.ErrNotHandled) {
		t.Fatalf("ack: %v, want ErrNotHandled", err)
	}
}

// stuck returns an application whose handler ignores its context until
// release is closed, and a channel that hears when it is stuck.
func stuck(release <-chan struct{}) (*app, chan struct{}) {
	started := make(chan struct{}, 1)
	return newApp(func(context.Context, *scope.Scope, note) error {
		started <- struct{}{}
		<-release
		return nil
	}), started
}

func TestShutdownDeadlineWithAStuckHandler(t *testing.T) {
	release := make(chan struct{})
	ap, started := stuck(release)
	var logs logtest.Buffer
	f := newFake()
	h := adapters.NewHost(f, adapters.WithLogger(logs.Logger()))
	r := run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	if err := in.Deliver(context.Background(), "conv-7", note{"x"}, newScope, nil); err != nil {
		t.Fatal(err)
	}
	recv(t, started)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := h.Shutdown(ctx)
	took := time.Since(begin)
	t.Logf("Shutdown(50ms) with a stuck handler returned after %v", took)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the context's error", err)
	}
	if took > 150*time.Millisecond {
		t.Fatalf("Shutdown(50ms) took %v, want at most 150ms", took)
	}
	line := ""
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "key=conv-7") {
			line = l
		}
	}
	for _, want := range []string{"adapter=fake", "key=conv-7", "event=fake.note"} {
		if !strings.Contains(line, want) {
			t.Errorf("no log line names the stuck scope with %s; logs:\n%s", want, logs.String())
		}
	}
	if err := r.wait(t); !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run: %v, want ErrStopped", err)
	}
	// Once the handler gives up, a second Shutdown sees every scope end.
	close(release)
	ctx2, cancel2 := context.WithTimeout(context.Background(), wait)
	defer cancel2()
	if err := h.Shutdown(ctx2); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

func TestCloseWithAStuckHandler(t *testing.T) {
	release := make(chan struct{})
	ap, started := stuck(release)
	f := newFake()
	h := adapters.NewHost(f, quiet())
	run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	if err := in.Deliver(context.Background(), "a", note{"x"}, newScope, nil); err != nil {
		t.Fatal(err)
	}
	recv(t, started)
	begin := time.Now()
	err := h.Close()
	took := time.Since(begin)
	t.Logf("Close with a stuck handler returned after %v", took)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if took > scope.DefaultCloseWait+500*time.Millisecond {
		t.Fatalf("Close took %v with a stuck handler, want about %v", took, scope.DefaultCloseWait)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown after the handler returned: %v", err)
	}
}
