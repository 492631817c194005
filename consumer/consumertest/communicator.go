package consumertest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	httpevent "github.com/switchboard-bots/switchboard/event/http"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// Defaults for a Communicator's waits.
const (
	DefaultTimeout        = 2 * time.Second
	DefaultNothingTimeout = 50 * time.Millisecond
)

// Communicator drives one scope of an application.
type Communicator struct {
	t     testing.TB
	m     *scope.Manager
	s     *scope.Scope
	out   chan event.Event
	ended chan Ending

	// Timeout bounds Receive and WaitEnded; NothingTimeout is how long
	// ReceiveNothing listens. Set them before use.
	Timeout        time.Duration
	NothingTimeout time.Duration

	logs *logBuffer
}

// Ending is how the scope ended: the reason in its final event, and the
// error that made the application refuse the scope, if it did.
type Ending struct {
	Reason scope.Reason
	Err    error
}

// Option configures a Communicator.
type Option func(*config)

type config struct {
	layer      consumer.Layer
	disconnect func(*scope.Scope, scope.Reason) scope.Final
}

// WithLayer gives the application a channel layer, as consumer.WithLayer
// does in a server.
func WithLayer(l consumer.Layer) Option { return func(c *config) { c.layer = l } }

// WithDisconnect sets the final event the scope ends with. By default it
// is wsevent.Disconnect for "websocket" scopes, httpevent.Disconnect for
// "http" scopes and Disconnect for any other protocol.
func WithDisconnect(f func(*scope.Scope, scope.Reason) scope.Final) Option {
	return func(c *config) { c.disconnect = f }
}

// Disconnect is the final event of scopes of protocols without one of
// their own in this package.
type Disconnect struct {
	Protocol string
	Reason   scope.Reason
}

func (d Disconnect) Type() string            { return d.Protocol + ".disconnect" }
func (d Disconnect) EndReason() scope.Reason { return d.Reason }
func defaultDisconnect(s *scope.Scope, r scope.Reason) scope.Final {
	switch s.Type {
	case "websocket":
		code := wsevent.CloseNormal
		if r == scope.ReasonShutdown {
			code = wsevent.CloseGoingAway
		}
		return wsevent.Disconnect{Code: code, Reason: r}
	case "http":
		return httpevent.Disconnect{Reason: r}
	}
	return Disconnect{Protocol: s.Type, Reason: r}
}

// New returns a Communicator for a new scope s of app. The scope starts
// with the first event sent. It is shut down when the test ends.
func New(t testing.TB, app scope.Application, s *scope.Scope, opts ...Option) *Communicator {
	t.Helper()
	cfg := config{disconnect: defaultDisconnect}
	for _, o := range opts {
		o(&cfg)
	}
	if s.Key == "" {
		s.Key = "test"
	}
	c := &Communicator{
		t: t, s: s,
		out:            make(chan event.Event, 1024),
		ended:          make(chan Ending, 1),
		Timeout:        DefaultTimeout,
		NothingTimeout: DefaultNothingTimeout,
		logs:           &logBuffer{},
	}
	log := slog.New(slog.NewTextHandler(c.logs, nil))
	app = consumer.WithLogger(log)(app)
	if cfg.layer != nil {
		app = consumer.WithLayer(cfg.layer)(app)
	}
	m, err := scope.NewManager(app, fakeAdapter{c, cfg.disconnect}, scope.Config{IdleTimeout: -1},
		scope.WithLogger(log))
	if err != nil {
		t.Fatalf("consumertest: %v", err)
	}
	c.m = m
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("consumertest: instance of %s did not end: %v", s, err)
		}
	})
	return c
}

// fakeAdapter is the adapter's side of the scope manager (a
// scope.Adapter): it routes what the instance sends to the communicator.
type fakeAdapter struct {
	c          *Communicator
	disconnect func(*scope.Scope, scope.Reason) scope.Final
}

func (p fakeAdapter) Send(ctx context.Context, _ *scope.Scope, ev event.Event) error {
	select {
	case p.c.out <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p fakeAdapter) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return p.disconnect(s, r)
}

func (p fakeAdapter) Ended(_ *scope.Scope, r scope.Reason, err error) {
	select {
	case p.c.ended <- Ending{r, err}:
	default:
	}
}

// Scope returns the scope the communicator drives.
func (c *Communicator) Scope() *scope.Scope { return c.s }

// Send delivers an inbound event to the instance.
func (c *Communicator) Send(ev event.Event) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	if err := c.m.Deliver(ctx, c.s.Key, ev, func() *scope.Scope { return c.s }); err != nil {
		c.t.Fatalf("consumertest: send %s: %v", ev.Type(), err)
	}
}

// Receive returns the next event the instance sent, failing the test after
// Timeout.
func (c *Communicator) Receive() event.Event {
	c.t.Helper()
	select {
	case ev := <-c.out:
		return ev
	case <-time.After(c.Timeout):
		c.t.Fatalf("consumertest: %s sent nothing within %v%s", c.s, c.Timeout, c.logs.tail())
		return nil
	}
}

// Receive returns the next event the instance sent as a T, failing the
// test if it is of another type or nothing arrives within the timeout.
func Receive[T event.Event](c *Communicator) T {
	c.t.Helper()
	ev := c.Receive()
	v, err := event.Decode[T](ev)
	if err != nil {
		c.t.Fatalf("consumertest: got %s %+v, want %T", ev.Type(), ev, v)
	}
	return v
}

// ReceiveNothing fails the test if the instance sends anything within
// NothingTimeout.
func (c *Communicator) ReceiveNothing() {
	c.t.Helper()
	select {
	case ev := <-c.out:
		c.t.Fatalf("consumertest: %s sent %s %+v, want nothing", c.s, ev.Type(), ev)
	case <-time.After(c.NothingTimeout):
	}
}

// End ends the scope with the protocol's final event for reason, as an
// adapter does when a connection closes, and waits until the instance has
// handled it.
func (c *Communicator) End(reason scope.Reason) {
	c.t.Helper()
	c.EndWith(nil, reason)
}

// EndWith ends the scope with final (or the default final event for
// reason when final is nil) and waits until the instance has handled it.
func (c *Communicator) EndWith(final scope.Final, reason scope.Reason) {
	c.t.Helper()
	if final == nil {
		final = defaultDisconnect(c.s, reason)
	}
	if !c.m.End(c.s.Key, final) {
		c.t.Fatalf("consumertest: %s has no live instance to end", c.s)
	}
	c.WaitEnded()
}

// WaitEnded waits until the scope has ended (after End, or because the
// instance failed or refused the scope) and returns how.
func (c *Communicator) WaitEnded() Ending {
	c.t.Helper()
	select {
	case e := <-c.ended:
		return e
	case <-time.After(c.Timeout):
		c.t.Fatalf("consumertest: %s did not end within %v%s", c.s, c.Timeout, c.logs.tail())
		return Ending{}
	}
}

// Logs returns what the scope manager and the consumers logged: failures
// of the instance, with the scope and the event type, and what consumers
// log through Base.Logger.
func (c *Communicator) Logs() string { return c.logs.String() }

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) tail() string {
	if s := l.String(); s != "" {
		return fmt.Sprintf("; the manager logged:\n%s", s)
	}
	return ""
}
