package counter_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/bots/counter"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
	sessionredis "github.com/switchboard-bots/switchboard/session/redis"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// chat is an adapter of the scope manager for tests: what instances send
// arrives on out.
type chat struct {
	out   chan event.Event
	ended chan scope.Reason
}

func (c chat) Ended(_ *scope.Scope, r scope.Reason, _ error) {
	select {
	case c.ended <- r:
	default:
	}
}

func (c chat) Send(_ context.Context, _ *scope.Scope, ev event.Event) error {
	c.out <- ev
	return nil
}

func (chat) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return consumertest.Disconnect{Protocol: s.Type, Reason: r}
}

// process is one botserver's worth of the counter: a scope manager over
// the bot behind session middleware on st.
type process struct {
	t     *testing.T
	m     *scope.Manager
	out   chan event.Event
	ended chan scope.Reason
}

func start(t *testing.T, st session.Store, cfg scope.Config, opts ...scope.Option) *process {
	t.Helper()
	return startApp(t, counter.New(), st, cfg, opts...)
}

func startApp(t *testing.T, app scope.Application, st session.Store, cfg scope.Config, opts ...scope.Option) *process {
	t.Helper()
	p := &process{t: t, out: make(chan event.Event, 100), ended: make(chan scope.Reason, 100)}
	m, err := scope.NewManager(session.Middleware(st)(app), chat{p.out, p.ended}, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	p.m = m
	t.Cleanup(func() { _ = m.Close() })
	return p
}

func newScope(key string) func() *scope.Scope {
	return func() *scope.Scope {
		return &scope.Scope{Type: consumertest.ChatProtocol, Adapter: "chat", Key: key, User: scope.User{ID: key}}
	}
}

// say sends text in conversation key and returns the bot's answer.
func (p *process) say(key, text string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.m.Deliver(ctx, key, consumertest.Message{Text: text}, newScope(key)); err != nil {
		p.t.Fatal(err)
	}
	for {
		select {
		case ev := <-p.out:
			if r, ok := ev.(consumertest.Reply); ok {
				return r.Text
			}
		case <-ctx.Done():
			p.t.Fatalf("no answer to %q in %s", text, key)
			return ""
		}
	}
}

func (p *process) expect(key, text, want string) {
	p.t.Helper()
	if got := p.say(key, text); got != want {
		p.t.Fatalf("%s: %q answered %q; want %q", key, text, got, want)
	}
}

// TestCountsAcrossIdleEnd: the conversation goes idle and ends; its next
// message starts a new scope, which goes on counting.
func TestCountsAcrossIdleEnd(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	p := start(t, memory.New(), scope.Config{IdleTimeout: time.Minute}, scope.WithClock(clock))
	p.expect("alice", "hi", "#1")
	p.expect("alice", "hi", "#2")
	// The answer can come before the handler's bookkeeping is done, and a
	// scope still busy is not idle: the sweeper then looks again on its
	// next tick.
	deadline := time.After(10 * time.Second)
	for ended := false; !ended; {
		clock.NextWait(t) // the sweeper waits
		clock.Advance(2 * time.Minute)
		select {
		case r := <-p.ended:
			if r != scope.ReasonIdle {
				t.Fatalf("the scope ended %q; want idle", r)
			}
			ended = true
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("the idle scope never ended")
		}
	}
	p.expect("alice", "hi", "#3")
}

// TestCountsAcrossEviction: at max_scopes a new conversation evicts the
// least recently active one, which loses nothing.
func TestCountsAcrossEviction(t *testing.T) {
	p := start(t, memory.New(), scope.Config{MaxScopes: 2})
	p.expect("alice", "hi", "#1")
	p.expect("alice", "hi", "#2")
	p.expect("bob", "hi", "#1")
	p.expect("carol", "hi", "#1") // evicts alice
	select {
	case r := <-p.ended:
		if r != scope.ReasonEvicted {
			t.Fatalf("a scope ended %q; want evicted", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no scope was evicted")
	}
	p.expect("alice", "hi", "#3") // evicts bob
	p.expect("bob", "hi", "#2")
}

// redisClient returns a client of the shared Redis, with a key prefix of
// the test's own whose keys are deleted when the test ends.
func redisClient(t *testing.T) (*goredis.Client, string) {
	t.Helper()
	url := redistest.URL(t)
	return redistest.Client(t, url), redistest.Prefix(t, url)
}

// TestCountsAcrossRestart: a process ends without ending its scopes (as a
// SIGKILL would leave it) and a new one on the same Redis goes on.
func TestCountsAcrossRestart(t *testing.T) {
	c, prefix := redisClient(t)
	first := start(t, sessionredis.New(c, sessionredis.WithPrefix(prefix)), scope.Config{})
	first.expect("alice", "hi", "#1")
	first.expect("alice", "hi", "#2")
	// A second process, with a client of its own, as after a restart.
	c2, _ := redisClient(t)
	second := start(t, sessionredis.New(c2, sessionredis.WithPrefix(prefix)), scope.Config{})
	second.expect("alice", "hi", "#3")
	// Both serving the conversation at once lose nothing either.
	first.expect("alice", "hi", "#4")
	second.expect("alice", "hi", "#5")
}

// TestRedisRoundTripsPerEvent: an event that changes the state costs two
// round trips (load, save), one that only reads it one, and a consumer
// without state none.
func TestRedisRoundTripsPerEvent(t *testing.T) {
	c, prefix := redisClient(t)
	rt := &redistest.RoundTrips{}
	c.AddHook(rt)
	st := sessionredis.New(c, sessionredis.WithPrefix(prefix))
	p := start(t, st, scope.Config{})
	p.expect("alice", "hi", "#1") // loads the script into Redis too
	for i := range 10 {
		before := rt.Trips.Load()
		p.expect("alice", "hi", fmt.Sprintf("#%d", i+2))
		if n := rt.Trips.Load() - before; n != 2 {
			t.Fatalf("a counting event cost %d round trips; want 2", n)
		}
	}
	for range 10 {
		before := rt.Trips.Load()
		p.expect("alice", "/count", "Count: 11")
		if n := rt.Trips.Load() - before; n != 1 {
			t.Fatalf("a reading event cost %d round trips; want 1", n)
		}
	}
	stateless := startApp(t, echo.New(), st, scope.Config{})
	before := rt.Trips.Load()
	for range 10 {
		stateless.expect("bob", "x", "You said: x")
	}
	if n := rt.Trips.Load() - before; n != 0 {
		t.Fatalf("10 events of a consumer without state cost %d round trips; want 0", n)
	}
}
