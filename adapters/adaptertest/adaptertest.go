package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Timeout bounds every wait of the kit.
const Timeout = 5 * time.Second

// Platform is the test's side of the platform an adapter speaks to.
// Conversations are named by short strings ("a", "b"); the platform maps
// them to its own identifiers.
type Platform interface {
	// Say makes the platform send a text message from a user in
	// conversation conv to the adapter.
	Say(t testing.TB, conv, text string)
	// Reply returns the next text the adapter posted to the platform and
	// the conversation it went to, failing the test after Timeout.
	Reply(t testing.TB) (conv, text string)
	// SayBad sends input the adapter must reject without stopping: a
	// malformed update, an oversized message, a bad signature.
	SayBad(t testing.TB)
}

// Harness makes a fresh adapter and its platform for one case, with the
// given scope configuration: for an adapter on the runtime,
// adapters.NewHost(a, adapters.WithScopes(cfg)). The kit waits for the
// Runner's Ready channel, if it has one, before its first message.
type Harness func(t *testing.T, cfg scope.Config) (adapters.Runner, Platform)

// Run runs every check of the kit as a subtest; checks whose capability
// the Platform lacks are skipped.
func Run(t *testing.T, h Harness) {
	t.Run("ScopePerConversation", func(t *testing.T) { TestScopePerConversation(t, h) })
	t.Run("Order", func(t *testing.T) { TestOrder(t, h) })
	t.Run("IdleEnd", func(t *testing.T) { TestIdleEnd(t, h) })
	t.Run("Shutdown", func(t *testing.T) { TestShutdown(t, h) })
	t.Run("BadInput", func(t *testing.T) { TestBadInput(t, h) })
	t.Run("ShutdownDeadline", func(t *testing.T) { TestShutdownDeadline(t, h) })
	t.Run("Say", func(t *testing.T) { TestSay(t, h) })
	t.Run("Push", func(t *testing.T) { TestPush(t, h) })
	t.Run("PushSay", func(t *testing.T) { TestPushSay(t, h) })
	t.Run("Refused", func(t *testing.T) { TestRefused(t, h) })
	t.Run("AckAfterHandling", func(t *testing.T) { TestAckAfterHandling(t, h) })
	t.Run("Reconnect", func(t *testing.T) { TestReconnect(t, h) })
}

// seen is one event as the kit's consumer saw it.
type seen struct {
	instance int64
	scope    *scope.Scope
	text     string       // for messages
	reason   scope.Reason // for the final event
}

// probe is the kit's application: a chat consumer that reports what it
// sees and answers "echo: <text>". A few texts make it do more:
//
//	"block <x>": wait, before answering, until the kit releases it or the
//	handler's context ends (then return the context's error);
//	"stuck <x>": wait until the kit releases it, ignoring the context;
//	"say <x>": send event.Say with <x> instead of answering.
//
// The outcome of every send is reported to the kit rather than returned,
// so that a refused call does not end the scope: the kit checks that the
// adapter does not end it either.
type probe struct {
	consumer.Chat
	id  int64
	app *app
}

type app struct {
	*consumer.Type[*probe]
	ids  atomic.Int64
	seen chan seen
	sent chan sendResult

	release     chan struct{} // closed to let blocked and stuck handlers go
	releaseOnce sync.Once
}

// sendResult is what became of the send made for one message.
type sendResult struct {
	instance int64
	text     string // the message's text
	err      error
}

func newApp() *app {
	a := &app{seen: make(chan seen, 10000), sent: make(chan sendResult, 10000), release: make(chan struct{})}
	a.Type = consumer.New(func() *probe { return &probe{id: a.ids.Add(1), app: a} },
		consumer.OnMessage((*probe).message))
	return a
}

// releaseAll lets every blocked or stuck handler go, now and later.
func (a *app) releaseAll() { a.releaseOnce.Do(func() { close(a.release) }) }

func (p *probe) message(ctx context.Context, m consumer.ChatMessage) error {
	text := m.ChatText()
	p.app.seen <- seen{instance: p.id, scope: p.Scope(), text: text}
	var err error
	switch verb, rest, _ := strings.Cut(text, " "); verb {
	case "block":
		select {
		case <-p.app.release:
		case <-ctx.Done():
			return ctx.Err()
		}
		err = p.Reply(ctx, "echo: "+text)
	case "stuck":
		<-p.app.release
		return nil
	case "say":
		err = p.Send(ctx, event.Say{Text: rest})
	default:
		err = p.Reply(ctx, "echo: "+text)
	}
	select {
	case p.app.sent <- sendResult{instance: p.id, text: text, err: err}:
	default: // no check reads that many
	}
	return nil
}

// nextSent returns the outcome of the next send the application made.
func (a *app) nextSent(t testing.TB) sendResult {
	t.Helper()
	select {
	case r := <-a.sent:
		return r
	case <-time.After(Timeout):
		t.Fatal("adaptertest: the application sent nothing within the timeout")
		return sendResult{}
	}
}

func (a *app) next(t testing.TB) seen {
	t.Helper()
	select {
	case s := <-a.seen:
		return s
	case <-time.After(Timeout):
		t.Fatal("adaptertest: the application saw nothing within the timeout")
		return seen{}
	}
}

// run is a running adapter: done is closed when Run returned err; cancel
// cancels Run's context, a hard stop.
type run struct {
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

// wait waits for Run to return and returns its error.
func (r *run) wait(t testing.TB, a adapters.Runner) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(Timeout):
		t.Fatalf("adaptertest: %s.Run did not return", a.Name())
		return nil
	}
}

// start runs the adapter until the test ends, and waits until it is
// ready if it tells (a Host does).
func start(t *testing.T, h Harness, cfg scope.Config) (adapters.Runner, Platform, *app, *run) {
	t.Helper()
	a, p := h(t, cfg)
	ap := newApp()
	app := scope.Application(ap.Type)
	app = finalReporter(ap)(app)
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{done: make(chan struct{}), cancel: cancel}
	go func() { r.err = a.Run(ctx, app); close(r.done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sctx, scancel := context.WithTimeout(context.Background(), Timeout)
			defer scancel()
			_ = a.Shutdown(sctx)
			cancel()
		})
	}
	t.Cleanup(func() {
		stop()
		select {
		case <-r.done:
		case <-time.After(Timeout):
			t.Errorf("adaptertest: %s.Run did not return after Shutdown", a.Name())
		}
	})
	// Cleanups run last first: handlers the check left blocked go before
	// the adapter is stopped.
	t.Cleanup(ap.releaseAll)
	if rd, ok := a.(interface{ Ready() <-chan struct{} }); ok {
		select {
		case <-rd.Ready():
		case <-r.done:
			t.Fatalf("adaptertest: %s.Run returned before it was ready: %v", a.Name(), r.err)
		case <-time.After(Timeout):
			t.Fatalf("adaptertest: %s was not ready within the timeout", a.Name())
		}
	}
	return a, p, ap, r
}

// finalReporter reports each instance's final event to the kit.
func finalReporter(a *app) func(scope.Application) scope.Application {
	return func(next scope.Application) scope.Application {
		return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
			inst, err := next.NewInstance(ctx, s, conn)
			if err != nil {
				return nil, err
			}
			id := inst.(*probe).id
			return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
				if f, ok := ev.(scope.Final); ok {
					a.seen <- seen{instance: id, scope: s, reason: f.EndReason()}
				}
				return inst.Handle(ctx, ev)
			}), nil
		})
	}
}

// TestScopePerConversation: one scope per conversation, created on its
// first message, carrying the adapter's name and protocol.
func TestScopePerConversation(t *testing.T, h Harness) {
	a, p, app, _ := start(t, h, scope.Config{IdleTimeout: -1})
	p.Say(t, "a", "one")
	first := app.next(t)
	p.Say(t, "b", "two")
	second := app.next(t)
	p.Say(t, "a", "three")
	third := app.next(t)
	if first.instance != third.instance {
		t.Errorf("two messages of conversation a reached different instances (%d, %d)", first.instance, third.instance)
	}
	if first.instance == second.instance {
		t.Errorf("conversations a and b share instance %d", first.instance)
	}
	for _, s := range []seen{first, second, third} {
		if s.scope.Type == "" || s.scope.Key == "" {
			t.Errorf("scope lacks a protocol or key: %+v", s.scope)
		}
		if s.scope.Adapter != a.Name() {
			t.Errorf("scope.Adapter = %q, want %q", s.scope.Adapter, a.Name())
		}
	}
	if first.text != "one" || second.text != "two" || third.text != "three" {
		t.Errorf("texts %q %q %q", first.text, second.text, third.text)
	}
}

// TestOrder: each conversation's messages arrive in order and each reply
// reaches the platform in its conversation, in order.
func TestOrder(t *testing.T, h Harness) {
	_, p, app, _ := start(t, h, scope.Config{IdleTimeout: -1})
	convs := []string{"a", "b", "c"}
	const n = 30
	for i := range n {
		for _, c := range convs {
			p.Say(t, c, fmt.Sprintf("%s-%d", c, i))
		}
	}
	want := map[string]int{}
	byInstance := map[int64]string{}
	for range n * len(convs) {
		s := app.next(t)
		var c string
		var i int
		if _, err := fmt.Sscanf(s.text, "%1s-%d", &c, &i); err != nil {
			t.Fatalf("unexpected text %q", s.text)
		}
		if i != want[c] {
			t.Fatalf("conversation %s: got message %d, want %d", c, i, want[c])
		}
		want[c]++
		if prev, ok := byInstance[s.instance]; ok && prev != c {
			t.Fatalf("instance %d serves %s and %s", s.instance, prev, c)
		}
		byInstance[s.instance] = c
	}
	replies := map[string]int{}
	for range n * len(convs) {
		conv, text := p.Reply(t)
		want := fmt.Sprintf("echo: %s-%d", conv, replies[conv])
		if text != want {
			t.Fatalf("reply in %s: %q, want %q", conv, text, want)
		}
		replies[conv]++
	}
}

// TestIdleEnd: a conversation idle for the timeout ends with reason idle.
func TestIdleEnd(t *testing.T, h Harness) {
	cfg := scope.Config{IdleTimeout: 50 * time.Millisecond}
	a, p, app, _ := start(t, h, cfg)
	if host, ok := a.(*adapters.Host); ok {
		if sc, ok := host.Adapter().(adapters.ScopeConfigurer); ok && sc.ScopeConfig(cfg).IdleTimeout < 0 {
			t.Skip("the adapter's scopes never end for being idle (its ScopeConfig): a connection's scope lasts as long as the connection")
		}
	}
	p.Say(t, "a", "hello")
	msg := app.next(t)
	end := app.next(t)
	if end.instance != msg.instance || end.reason != scope.ReasonIdle {
		t.Fatalf("got %+v after the message, want instance %d ending with reason idle", end, msg.instance)
	}
}

// TestShutdown: Shutdown ends every scope with reason shutdown, after the
// messages already accepted, and Run returns ErrStopped.
func TestShutdown(t *testing.T, h Harness) {
	a, p, app, done := start(t, h, scope.Config{IdleTimeout: -1})
	p.Say(t, "a", "1")
	p.Say(t, "b", "1")
	for range 2 {
		app.next(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 2 {
		if s := app.next(t); s.reason != scope.ReasonShutdown {
			t.Fatalf("got %+v, want a final event with reason shutdown", s)
		}
	}
	select {
	case <-done.done:
		if !errors.Is(done.err, adapters.ErrStopped) {
			t.Fatalf("Run returned %v, want ErrStopped", done.err)
		}
	case <-time.After(Timeout):
		t.Fatal("Run did not return after Shutdown")
	}
}

// TestBadInput: bad input is rejected and the next message still arrives.
func TestBadInput(t *testing.T, h Harness) {
	_, p, app, done := start(t, h, scope.Config{IdleTimeout: -1})
	p.SayBad(t)
	p.Say(t, "a", "after bad input")
	if s := app.next(t); s.text != "after bad input" {
		t.Fatalf("got %+v, want the message after the bad input", s)
	}
	select {
	case <-done.done:
		t.Fatalf("adapter stopped on bad input: %v", done.err)
	default:
	}
}
