package scope_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// text is a minimal inbound event.
type text struct{ S string }

func (text) Type() string { return "test.text" }

// bye is the test protocol's disconnect event.
type bye struct{ Reason scope.Reason }

func (bye) Type() string              { return "test.disconnect" }
func (b bye) EndReason() scope.Reason { return b.Reason }
func newScope() *scope.Scope          { return &scope.Scope{Type: "test"} }
func deliverText(t *testing.T, m *scope.Manager, key, s string) {
	t.Helper()
	if err := m.Deliver(context.Background(), key, text{s}, newScope); err != nil {
		t.Fatalf("Deliver(%s, %s): %v", key, s, err)
	}
}

// seen is what a recording instance saw: "key:event" strings in order.
type seen struct {
	key string
	ev  event.Event
}

// proto records outbound events and scope ends.
type proto struct {
	sent  chan seen
	ended chan endNote
}

type endNote struct {
	key    string
	reason scope.Reason
	err    error
}

func newProto() *proto {
	return &proto{sent: make(chan seen, 1000), ended: make(chan endNote, 1000)}
}

func (p *proto) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	p.sent <- seen{s.Key, ev}
	return nil
}
func (p *proto) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final { return bye{r} }
func (p *proto) Ended(s *scope.Scope, r scope.Reason, err error) {
	p.ended <- endNote{s.Key, r, err}
}

// recorder is an application whose instances report every event on a
// channel and can be told to block or fail.
type recorder struct {
	events chan seen
	// hook, if set, runs before an event is reported; its error is
	// returned from Handle.
	hook func(key string, ev event.Event) error
}

func newRecorder() *recorder { return &recorder{events: make(chan seen, 10000)} }

func (r *recorder) NewInstance(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		if r.hook != nil {
			if err := r.hook(s.Key, ev); err != nil {
				return err
			}
		}
		r.events <- seen{s.Key, ev}
		return nil
	}), nil
}

func next(t *testing.T, ch <-chan seen) seen {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for an event")
		return seen{}
	}
}

func nextEnd(t *testing.T, ch <-chan endNote) endNote {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a scope to end")
		return endNote{}
	}
}

func quietLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newManager(t *testing.T, app scope.Application, p *proto, cfg scope.Config) *scope.Manager {
	t.Helper()
	log, _ := quietLogger(t)
	m, err := scope.NewManager(app, p, cfg, scope.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestOrderWithinScope(t *testing.T) {
	r := newRecorder()
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, InboxSize: 8})
	const n = 1000
	var wg sync.WaitGroup
	for _, key := range []string{"a", "b", "c"} {
		wg.Go(func() {
			for i := range n {
				deliverText(t, m, key, fmt.Sprint(i))
			}
		})
	}
	wg.Wait()
	want := map[string]int{}
	for range 3 * n {
		v := next(t, r.events)
		if got := v.ev.(text).S; got != fmt.Sprint(want[v.key]) {
			t.Fatalf("scope %s: got event %s, want %d", v.key, got, want[v.key])
		}
		want[v.key]++
	}
}

func TestScopesRunInParallel(t *testing.T) {
	r := newRecorder()
	release := make(chan struct{})
	r.hook = func(key string, ev event.Event) error {
		if key == "slow" {
			<-release
		}
		return nil
	}
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1})
	deliverText(t, m, "slow", "1")
	deliverText(t, m, "fast", "1")
	if v := next(t, r.events); v.key != "fast" {
		t.Fatalf("got %s first; a blocked scope delayed another", v.key)
	}
	close(release)
	if v := next(t, r.events); v.key != "slow" {
		t.Fatalf("got %s, want slow", v.key)
	}
}

func TestFullInboxAppliesBackpressure(t *testing.T) {
	r := newRecorder()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	r.hook = func(key string, ev event.Event) error {
		if ev.(text).S == "0" {
			started <- struct{}{}
			<-release
		}
		return nil
	}
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, InboxSize: 2})
	deliverText(t, m, "k", "0")
	<-started // "0" is being handled; the inbox is empty again
	deliverText(t, m, "k", "1")
	deliverText(t, m, "k", "2")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := m.Deliver(ctx, "k", text{"3"}, newScope)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Deliver to a full inbox: got %v, want a deadline error", err)
	}

	done := make(chan error)
	go func() { done <- m.Deliver(context.Background(), "k", text{"3"}, newScope) }()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Deliver after room was made: %v", err)
	}
	for i := range 4 {
		if got := next(t, r.events).ev.(text).S; got != fmt.Sprint(i) {
			t.Fatalf("got %s, want %d: an event was lost or reordered", got, i)
		}
	}
}

func TestIdleTimeoutEndsScope(t *testing.T) {
	r := newRecorder()
	p := newProto()
	m := newManager(t, r, p, scope.Config{IdleTimeout: 30 * time.Millisecond})
	deliverText(t, m, "k", "hi")
	next(t, r.events)
	v := next(t, r.events)
	if d, ok := v.ev.(bye); !ok || d.Reason != scope.ReasonIdle {
		t.Fatalf("got %#v, want disconnect with reason idle", v.ev)
	}
	if e := nextEnd(t, p.ended); e.reason != scope.ReasonIdle || e.key != "k" {
		t.Fatalf("ended %+v", e)
	}
	if m.Len() != 0 {
		t.Fatalf("Len = %d after idle end", m.Len())
	}
	// The next message starts a new scope.
	deliverText(t, m, "k", "again")
	if got := next(t, r.events).ev; got != (text{"again"}) {
		t.Fatalf("got %#v", got)
	}
}

func TestEvictsLeastRecentlyActiveIdleScope(t *testing.T) {
	r := newRecorder()
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, MaxScopes: 2})
	deliverText(t, m, "a", "1")
	next(t, r.events)
	deliverText(t, m, "b", "1")
	next(t, r.events)
	// b's worker marks it active when it leaves it, after the handler
	// returned: wait for that, or it may come after a's second event.
	waitIdle(t, m, "b")
	deliverText(t, m, "a", "2") // a is now more recent than b
	next(t, r.events)
	waitIdle(t, m, "a")

	deliverText(t, m, "c", "1")
	got := map[string]event.Event{}
	for range 2 {
		v := next(t, r.events)
		got[v.key] = v.ev
	}
	if d, ok := got["b"].(bye); !ok || d.Reason != scope.ReasonEvicted {
		t.Fatalf("b got %#v, want disconnect with reason evicted", got["b"])
	}
	if got["c"] != (text{"1"}) {
		t.Fatalf("c got %#v", got["c"])
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
}

// With NoEvict (connection scopes), a new scope at the bound is refused
// and the idle scopes stay: opening conversations cannot push quiet ones
// out. Once one ends, its slot is free again.
func TestNoEvictRefusesNewScopeAtBound(t *testing.T) {
	r := newRecorder()
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, MaxScopes: 2, NoEvict: true})
	deliverText(t, m, "a", "1")
	next(t, r.events)
	deliverText(t, m, "b", "1")
	next(t, r.events)
	waitIdle(t, m, "a")
	waitIdle(t, m, "b")

	err := m.Deliver(context.Background(), "c", text{"1"}, newScope)
	if !errors.Is(err, scope.ErrTooManyScopes) {
		t.Fatalf("new scope at the bound: %v, want ErrTooManyScopes", err)
	}
	if m.Len() != 2 || !m.Idle("a") || !m.Idle("b") {
		t.Fatalf("Len = %d, a idle %v, b idle %v: an idle scope was ended", m.Len(), m.Idle("a"), m.Idle("b"))
	}
	select {
	case v := <-r.events:
		t.Fatalf("%s got %#v after a refused scope", v.key, v.ev)
	default:
	}
	// An existing scope still gets its events.
	deliverText(t, m, "a", "2")
	if v := next(t, r.events); v.key != "a" || v.ev != (text{"2"}) {
		t.Fatalf("got %+v", v)
	}
}

// waitIdle lets a scope's worker finish, so the scope counts as idle. It
// delivers a marker to another key and waits until the key's handler ran,
// relying on nothing but the order of one scope.
func waitIdle(t *testing.T, m *scope.Manager, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !m.Idle(key) {
		if time.Now().After(deadline) {
			t.Fatalf("scope %s never became idle", key)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising on time
	}
}

func TestTooManyBusyScopes(t *testing.T) {
	r := newRecorder()
	release := make(chan struct{})
	r.hook = func(string, event.Event) error { <-release; return nil }
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, MaxScopes: 1})
	deliverText(t, m, "a", "1")
	err := m.Deliver(context.Background(), "b", text{"1"}, newScope)
	if !errors.Is(err, scope.ErrTooManyScopes) {
		t.Fatalf("got %v, want ErrTooManyScopes", err)
	}
	close(release)
}

func TestShutdownDrainsThenEndsEveryScope(t *testing.T) {
	r := newRecorder()
	p := newProto()
	release := make(chan struct{})
	r.hook = func(key string, ev event.Event) error {
		if key == "busy" && ev == (text{"0"}) {
			<-release
		}
		return nil
	}
	log, _ := quietLogger(t)
	m, err := scope.NewManager(r, p, scope.Config{}, scope.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		deliverText(t, m, "busy", fmt.Sprint(i))
	}
	for i := range 100 {
		deliverText(t, m, fmt.Sprint("idle", i), "x")
	}
	done := make(chan error)
	go func() { done <- m.Shutdown(context.Background()) }()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := m.Deliver(context.Background(), "late", text{"x"}, newScope); !errors.Is(err, scope.ErrClosed) {
		t.Fatalf("Deliver after Shutdown: %v, want ErrClosed", err)
	}
	close(r.events)
	var busy []event.Event
	shutdowns := 0
	for v := range r.events {
		if v.key == "busy" {
			busy = append(busy, v.ev)
		}
		if d, ok := v.ev.(bye); ok && d.Reason == scope.ReasonShutdown {
			shutdowns++
		}
	}
	want := []event.Event{text{"0"}, text{"1"}, text{"2"}, bye{scope.ReasonShutdown}}
	if fmt.Sprint(busy) != fmt.Sprint(want) {
		t.Fatalf("busy scope saw %v, want %v", busy, want)
	}
	if shutdowns != 101 {
		t.Fatalf("%d scopes got a shutdown disconnect, want 101", shutdowns)
	}
}

func TestShutdownTimesOut(t *testing.T) {
	ctxSeen := make(chan struct{})
	app := scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if _, ok := ev.(text); ok {
				close(ctxSeen)
				<-ctx.Done()
			}
			return nil
		}), nil
	})
	log, _ := quietLogger(t)
	m, err := scope.NewManager(app, newProto(), scope.Config{}, scope.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	deliverText(t, m, "stuck", "x")
	<-ctxSeen
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := m.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
}

func TestPanicEndsOnlyItsScope(t *testing.T) {
	r := newRecorder()
	p := newProto()
	r.hook = func(key string, ev event.Event) error {
		if ev == (text{"boom"}) {
			panic("handler bug")
		}
		return nil
	}
	log, logs := quietLogger(t)
	m, err := scope.NewManager(r, p, scope.Config{IdleTimeout: -1}, scope.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	deliverText(t, m, "bad", "boom")
	deliverText(t, m, "bad", "after")
	deliverText(t, m, "good", "fine")

	got := map[string][]event.Event{}
	for range 3 {
		v := next(t, r.events)
		got[v.key] = append(got[v.key], v.ev)
	}
	if want := []event.Event{bye{scope.ReasonError}, text{"after"}}; fmt.Sprint(got["bad"]) != fmt.Sprint(want) {
		t.Fatalf("bad scope saw %v, want %v", got["bad"], want)
	}
	if fmt.Sprint(got["good"]) != fmt.Sprint([]event.Event{text{"fine"}}) {
		t.Fatalf("good scope saw %v", got["good"])
	}
	e := nextEnd(t, p.ended)
	if e.key != "bad" || e.reason != scope.ReasonError {
		t.Fatalf("ended %+v", e)
	}
	if l := logs.String(); !strings.Contains(l, "scope=test:bad") || !strings.Contains(l, "handler bug") || !strings.Contains(l, "event=test.text") {
		t.Fatalf("log does not name the scope, event and panic:\n%s", l)
	}
}

func TestStartErrorIsReported(t *testing.T) {
	p := newProto()
	refuse := errors.New("no route")
	app := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return nil, refuse
	})
	m := newManager(t, app, p, scope.Config{IdleTimeout: -1})
	deliverText(t, m, "k", "x")
	e := nextEnd(t, p.ended)
	if !errors.Is(e.err, refuse) || e.reason != scope.ReasonError {
		t.Fatalf("ended %+v, want the start error", e)
	}
}

func TestPostAndSendThroughConn(t *testing.T) {
	p := newProto()
	events := make(chan event.Event, 10)
	app := scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			events <- ev
			if ev == (text{"start"}) {
				// Work on another goroutine reports back in order.
				go func() { _ = conn.Post(context.Background(), text{"result"}) }()
				return conn.Send(ctx, text{"ack"})
			}
			return nil
		}), nil
	})
	m := newManager(t, app, p, scope.Config{IdleTimeout: -1})
	deliverText(t, m, "k", "start")
	for _, want := range []event.Event{text{"start"}, text{"result"}} {
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("timed out")
		}
	}
	if s := <-p.sent; s.key != "k" || s.ev != (text{"ack"}) {
		t.Fatalf("sent %+v", s)
	}
}

func TestEndQueuesFinalAfterPending(t *testing.T) {
	r := newRecorder()
	p := newProto()
	m := newManager(t, r, p, scope.Config{IdleTimeout: -1})
	deliverText(t, m, "k", "1")
	if !m.End("k", bye{scope.ReasonClosed}) {
		t.Fatal("End found no scope")
	}
	if m.End("k", bye{scope.ReasonClosed}) {
		t.Fatal("End found an ended scope")
	}
	deliverText(t, m, "k", "new scope")
	want := []event.Event{text{"1"}, bye{scope.ReasonClosed}, text{"new scope"}}
	for _, w := range want {
		if got := next(t, r.events).ev; got != w {
			t.Fatalf("got %#v, want %#v", got, w)
		}
	}
}

func TestIdleScopesHoldNoGoroutine(t *testing.T) {
	r := newRecorder()
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1})
	before := goleak.IgnoreCurrent()
	for i := range 1000 {
		deliverText(t, m, fmt.Sprint(i), "x")
	}
	for range 1000 {
		next(t, r.events)
	}
	// goleak retries until the workers have exited.
	if err := goleak.Find(before); err != nil {
		t.Fatalf("idle scopes hold goroutines: %v", err)
	}
	if m.Len() != 1000 {
		t.Fatalf("Len = %d", m.Len())
	}
}

func TestPostReachesOnlyALiveScope(t *testing.T) {
	r := newRecorder()
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1})
	if err := m.Post(context.Background(), "k", text{"early"}); !errors.Is(err, scope.ErrEnded) {
		t.Fatalf("Post without a scope: %v, want ErrEnded", err)
	}
	deliverText(t, m, "k", "1")
	if err := m.Post(context.Background(), "k", text{"result"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1", "result"} {
		if got := next(t, r.events).ev.(text).S; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d", m.Len())
	}
}

func TestDeliverInlineHandlesBeforeReturning(t *testing.T) {
	var handled atomic.Int32
	app := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if _, ok := ev.(text); ok {
				handled.Add(1)
			}
			return nil
		}), nil
	})
	m := newManager(t, app, newProto(), scope.Config{IdleTimeout: -1})
	for i := range 100 {
		if err := m.DeliverInline(context.Background(), "k", text{"x"}, newScope); err != nil {
			t.Fatal(err)
		}
		// The caller was the worker: the event is handled when it returns.
		if got := handled.Load(); got != int32(i+1) {
			t.Fatalf("after %d deliveries %d were handled", i+1, got)
		}
	}
}

// A delivery waiting for room in the inbox of a scope that fails is not
// lost: it goes to the scope that takes over the key.
func TestDeliveryWaitingOnAFailedScopeMovesOn(t *testing.T) {
	r := newRecorder()
	release := make(chan struct{})
	started := make(chan struct{})
	r.hook = func(key string, ev event.Event) error {
		if ev == (text{"0"}) {
			close(started)
			<-release
			return errors.New("handler failed")
		}
		return nil
	}
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, InboxSize: 1})
	deliverText(t, m, "k", "0")
	<-started
	deliverText(t, m, "k", "1") // fills the inbox
	waiting := make(chan error)
	go func() { waiting <- m.Deliver(context.Background(), "k", text{"2"}, newScope) }()
	close(release)
	if err := <-waiting; err != nil {
		t.Fatalf("the waiting delivery failed: %v", err)
	}
	var got []event.Event
	for range 3 {
		got = append(got, next(t, r.events).ev)
	}
	if want := fmt.Sprint([]event.Event{bye{scope.ReasonError}, text{"1"}, text{"2"}}); fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// An event handled inline that fails ends its scope like any other: the
// events posted while it ran go to the scope that takes over the key, in
// order, and the caller returns only once they are handled.
func TestDeliverInlineFailureMovesQueuedEventsOn(t *testing.T) {
	r := newRecorder()
	p := newProto()
	m := newManager(t, r, p, scope.Config{IdleTimeout: -1})
	r.hook = func(key string, ev event.Event) error {
		if ev == (text{"boom"}) {
			for _, s := range []string{"a", "b"} {
				if err := m.Post(context.Background(), key, text{s}); err != nil {
					t.Errorf("Post: %v", err)
				}
			}
			return errors.New("handler failed")
		}
		return nil
	}
	if err := m.DeliverInline(context.Background(), "k", text{"boom"}, newScope); err != nil {
		t.Fatal(err)
	}
	if end := nextEnd(t, p.ended); end.reason != scope.ReasonError {
		t.Fatalf("scope ended with %v, want %v", end.reason, scope.ReasonError)
	}
	var got []event.Event
	for range 3 {
		got = append(got, next(t, r.events).ev)
	}
	if want := fmt.Sprint([]event.Event{bye{scope.ReasonError}, text{"a"}, text{"b"}}); fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want the successor scope only", m.Len())
	}
}

// A scope served inline is marked active when its handler is done, so the
// idle timeout counts from then.
func TestDeliverInlineCountsAsActivity(t *testing.T) {
	r := newRecorder()
	p := newProto()
	m := newManager(t, r, p, scope.Config{IdleTimeout: 50 * time.Millisecond})
	start := time.Now()
	if err := m.DeliverInline(context.Background(), "k", text{"x"}, newScope); err != nil {
		t.Fatal(err)
	}
	next(t, r.events)
	if end := nextEnd(t, p.ended); end.reason != scope.ReasonIdle {
		t.Fatalf("scope ended with %v, want %v", end.reason, scope.ReasonIdle)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("scope ended idle after %v, before its timeout", d)
	}
}

// Eviction picks the least recently active idle scope exactly, although
// an active scope moves in the activity list only now and then: here every
// scope but one is active again, within the same instant, before the bound
// is reached.
func TestEvictsExactlyTheLeastRecentlyActive(t *testing.T) {
	const n = 200 // several keys per shard
	r := newRecorder()
	m := newManager(t, r, newProto(), scope.Config{IdleTimeout: -1, MaxScopes: n})
	key := func(i int) string { return fmt.Sprintf("k%d", i) }
	for i := range n {
		deliverText(t, m, key(i), "1")
		next(t, r.events)
	}
	const quiet = 37
	for i := range n {
		if i != quiet {
			deliverText(t, m, key(i), "2")
			next(t, r.events)
		}
	}
	for i := range n {
		waitIdle(t, m, key(i))
	}
	deliverText(t, m, "new", "1")
	got := map[string]event.Event{}
	for range 2 {
		v := next(t, r.events)
		got[v.key] = v.ev
	}
	if d, ok := got[key(quiet)].(bye); !ok || d.Reason != scope.ReasonEvicted {
		t.Fatalf("evicted %v, want %s", got, key(quiet))
	}
}
