package reconnect_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/scope"
)

// fakeConn is a connection the test drops or the Link closes.
type fakeConn struct {
	done   chan struct{}
	once   sync.Once
	err    error
	closed bool // by Close, rather than dropped
}

func newConn() *fakeConn { return &fakeConn{done: make(chan struct{})} }

func (c *fakeConn) Done() <-chan struct{} { return c.done }
func (c *fakeConn) Err() error            { return c.err }
func (c *fakeConn) Close() error          { c.end(errors.New("closed"), true); return nil }

func (c *fakeConn) end(err error, closed bool) {
	c.once.Do(func() { c.err, c.closed = err, closed; close(c.done) })
}

// dial is one Dial's outcome, handed over by the test.
type dial struct {
	c   *fakeConn
	err error
}

// fake is an adapter whose Serve is a Link's and whose Send reports the
// connection it got.
type fake struct {
	link  *reconnect.Link[*fakeConn]
	dials chan dial
	ins   chan *adapters.Intake
	ctxs  chan context.Context // each Dial's context
	sent  chan *fakeConn
}

func newFake(opts reconnect.Options) *fake {
	f := &fake{dials: make(chan dial), ins: make(chan *adapters.Intake, 10),
		ctxs: make(chan context.Context, 10), sent: make(chan *fakeConn, 10)}
	f.link = reconnect.New(func(ctx context.Context, in *adapters.Intake) (*fakeConn, error) {
		f.ins <- in
		f.ctxs <- ctx
		select {
		case d := <-f.dials:
			return d.c, d.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, opts)
	return f
}

func (f *fake) Name() string                                         { return "fake" }
func (f *fake) Serve(ctx context.Context, in *adapters.Intake) error { return f.link.Serve(ctx, in) }
func (f *fake) Send(ctx context.Context, _ *scope.Scope, _ event.Event) error {
	c, err := f.link.Current(ctx)
	if err == nil {
		f.sent <- c
	}
	return err
}

var quiet = adapters.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// run runs a Host of f until the test ends.
func run(t *testing.T, f *fake, app scope.Application) (*adapters.Host, <-chan error) {
	t.Helper()
	h := adapters.NewHost(f, quiet)
	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(finished)
		done <- h.Run(context.Background(), app)
	}()
	t.Cleanup(func() {
		_ = h.Close()
		<-finished
	})
	return h, done
}

var nopApp = scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
})

func TestBackoffReadinessAndCurrent(t *testing.T) {
	clock := clocktest.New(time.Unix(1_000_000, 0))
	f := newFake(reconnect.Options{Clock: clock, Max: 3 * time.Second})
	h, _ := run(t, f, nopApp)
	refused := errors.New("refused")
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		f.dials <- dial{err: refused}
		if d := clock.NextWait(t); d != want {
			t.Fatalf("waited %v after a failed dial, want %v", d, want)
		}
		if err := h.Health(); !errors.Is(err, refused) || !errors.Is(err, adapters.ErrUnreachable) {
			t.Fatalf("Health while down: %v", err)
		}
		select {
		case <-h.Ready():
			t.Fatal("ready before any connection was up")
		default:
		}
		clock.Advance(want)
	}
	first := newConn()
	f.dials <- dial{c: first}
	<-h.Ready()
	if c, err := f.link.Current(context.Background()); c != first || err != nil {
		t.Fatalf("Current: %p, %v; want the live connection", c, err)
	}
	if c, live := f.link.Live(); c != first || !live {
		t.Fatalf("Live: %p, %v; want the live connection", c, live)
	}
	if err := h.Health(); err != nil {
		t.Fatalf("Health once up: %v", err)
	}

	// A drop: the backoff starts again from Min, readiness says why, and
	// Current waits for the next connection.
	dropped := errors.New("dropped")
	first.end(dropped, false)
	if d := clock.NextWait(t); d != time.Second {
		t.Fatalf("first wait after a connection was up: %v, want 1s", d)
	}
	if err := h.Health(); !errors.Is(err, dropped) {
		t.Fatalf("Health after a drop: %v", err)
	}
	if _, live := f.link.Live(); live {
		t.Fatal("Live reports a connection after a drop")
	}
	got := make(chan *fakeConn, 1)
	go func() {
		c, _ := f.link.Current(context.Background())
		got <- c
	}()
	select {
	case c := <-got:
		t.Fatalf("Current returned %p while no connection was up", c)
	default:
	}
	clock.Advance(time.Second)
	second := newConn()
	f.dials <- dial{c: second}
	if c := <-got; c != second {
		t.Fatalf("Current after reconnecting: %p, want the new connection", c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.link.Current(ctx); err != nil {
		t.Fatalf("Current with a live connection and an ended context: %v", err)
	}
}

func TestFatalEndsServe(t *testing.T) {
	clock := clocktest.New(time.Unix(1_000_000, 0))
	errLogin := errors.New("login refused")
	f := newFake(reconnect.Options{Clock: clock, Fatal: func(err error) bool { return errors.Is(err, errLogin) }})
	_, done := run(t, f, nopApp)

	f.dials <- dial{err: errors.New("refused")} // not fatal: retried
	clock.NextWait(t)
	clock.Advance(time.Second)
	c := newConn()
	f.dials <- dial{c: c}
	c.end(errLogin, false) // a lost connection's Err counts too
	if err := <-done; !errors.Is(err, errLogin) {
		t.Fatalf("Run: %v, want the fatal error", err)
	}
}

func TestConnectionOutlivesServeUntilGrace(t *testing.T) {
	release := make(chan struct{})
	handling := make(chan struct{})
	app := scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if _, ok := ev.(event.Say); !ok {
				return nil // the final event
			}
			close(handling)
			<-release
			return conn.Send(ctx, event.Say{Text: "last reply"})
		}), nil
	})
	f := newFake(reconnect.Options{})
	h, done := run(t, f, app)
	c := newConn()
	in, serveCtx := <-f.ins, <-f.ctxs
	f.dials <- dial{c: c}
	<-h.Ready()
	newScope := func() *scope.Scope { return &scope.Scope{Type: "fake", Adapter: "fake"} }
	if err := in.Deliver(context.Background(), "k", event.Say{Text: "hi"}, newScope, nil); err != nil {
		t.Fatal(err)
	}
	<-handling

	shut := make(chan error, 1)
	go func() { shut <- h.Shutdown(context.Background()) }()
	<-serveCtx.Done() // Serve's context ended: Shutdown began
	select {
	case <-c.Done():
		t.Fatal("the connection closed while a scope still had a reply to send")
	default:
	}
	close(release)
	if got := <-f.sent; got != c {
		t.Fatalf("the last reply went to %p, want the connection kept open", got)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run: %v", err)
	}
	<-c.Done()
	if !c.closed {
		t.Fatal("the connection was not closed by the Link")
	}
}
