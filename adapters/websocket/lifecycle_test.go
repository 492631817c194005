package websocket_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"

	"github.com/switchboard-bots/switchboard/internal/logtest"
)

func TestRunTwice(t *testing.T) {
	s := start(t, wsa.Config{}, routes(newProbe()))
	if err := s.h.Run(context.Background(), routes(newProbe())); !errors.Is(err, adapters.ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
	// The first Run still serves.
	c := s.dial(t, "/ws/", nil)
	send(t, c, "hi")
	if got := recv(t, c); got != "echo: hi" {
		t.Fatalf("got %q", got)
	}
}

func TestShutdownBeforeRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, err := wsa.New(wsa.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(a)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Run(context.Background(), routes(newProbe())); !errors.Is(err, adapters.ErrStopped) {
		t.Fatalf("Run after Shutdown: %v, want ErrStopped", err)
	}
	if a.Addr() != nil {
		t.Errorf("listening on %v, though never run", a.Addr())
	}
}

func TestFactory(t *testing.T) {
	a, err := wsa.Factory(adapters.Setup{Name: "web", Decode: func(v any) error {
		v.(*wsa.Config).Addr = "127.0.0.1:0"
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "web" {
		t.Errorf("name %q, want the section's", a.Name())
	}
	if p := a.(adapters.Protocols).Protocols(); strings.Join(p, ",") != "websocket,http" {
		t.Errorf("protocols %q", p)
	}
	if _, err := wsa.Factory(adapters.Setup{Decode: func(v any) error {
		v.(*wsa.Config).ReadLimit = -1
		return nil
	}}); !errors.Is(err, wsa.ErrInvalidConfig) {
		t.Errorf("bad section: %v, want ErrInvalidConfig", err)
	}
}

// sayer answers every message with a chat.say.
type sayer struct{ consumer.WebSocket }

func (c *sayer) Connect(ctx context.Context, _ websocket.Connect) error { return c.Accept(ctx, "") }
func (c *sayer) Receive(ctx context.Context, m websocket.Receive) error {
	if err := c.Send(ctx, event.Say{Text: "said: " + m.Text}); err != nil {
		return err
	}
	// What a layer of another process delivers: the generic form.
	return c.Send(ctx, event.Message{"type": "chat.say", "text": "again: " + m.Text})
}

func TestChatSay(t *testing.T) {
	s := start(t, wsa.Config{}, consumer.New(func() *sayer { return new(sayer) },
		consumer.On((*sayer).Connect), consumer.On((*sayer).Receive)))
	c := s.dial(t, "/", nil)
	send(t, c, "hi")
	if got := recv(t, c); got != "said: hi" {
		t.Errorf("chat.say: %q", got)
	}
	if got := recv(t, c); got != "again: hi" {
		t.Errorf("generic chat.say: %q", got)
	}
}

// stuck is a consumer whose Receive ignores its context until released.
type stuck struct {
	consumer.WebSocket
	in      chan<- string
	release <-chan struct{}
}

func (c *stuck) Connect(ctx context.Context, _ websocket.Connect) error {
	c.in <- c.Scope().Key
	return c.Accept(ctx, "")
}

func (c *stuck) Receive(context.Context, websocket.Receive) error {
	c.in <- "stuck"
	<-c.release
	return nil
}

// TestShutdownLeavesStuckHandler: Shutdown returns at its deadline even
// though a handler ignores its context, and the log names the scope left
// running.
func TestShutdownLeavesStuckHandler(t *testing.T) {
	var logs logtest.Buffer
	in, release := make(chan string, 2), make(chan struct{})
	ws := router.NewPathRouter()
	ws.Handle("/ws/", consumer.New(func() *stuck { return &stuck{in: in, release: release} },
		consumer.On((*stuck).Connect), consumer.On((*stuck).Receive)))
	s := start(t, wsa.Config{}, router.ByProtocol(router.Routes{"websocket": ws}),
		adapters.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	s.once.Do(func() {}) // this test stops the server itself
	c := s.dial(t, "/ws/", nil)
	key := <-in
	send(t, c, "hang")
	if got := <-in; got != "stuck" {
		t.Fatalf("got %q", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := s.h.Shutdown(ctx)
	took := time.Since(began)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want DeadlineExceeded", err)
	}
	if took > 150*time.Millisecond {
		t.Errorf("Shutdown(50ms) took %v", took)
	}
	if !strings.Contains(logs.String(), "key="+key) {
		t.Errorf("the log does not name scope %s still running:\n%s", key, logs.String())
	}
	close(release)
	select {
	case err := <-s.done:
		if !errors.Is(err, adapters.ErrStopped) {
			t.Errorf("Run: %v, want ErrStopped", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return once the handler did")
	}
}
