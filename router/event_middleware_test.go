package router_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// loudConn marks what the instance sends, to show a Conn given to start
// is the one the instance uses.
type loudConn struct{ scope.Conn }

func (c loudConn) Send(ctx context.Context, ev event.Event) error {
	return c.Conn.Send(ctx, reply{"loud " + ev.(reply).text})
}

func TestEventMiddleware(t *testing.T) {
	j := &journal{}
	counting := router.EventMiddleware(func(_ context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		next, err := start(loudConn{conn})
		if err != nil {
			return nil, err
		}
		n := 0 // per scope
		return func(ctx context.Context, ev event.Event) error {
			n++
			j.add("count %s %d %s", s.Key, n, ev.Type())
			return next(ctx, ev)
		}, nil
	})
	a := newApp("app", j)
	a.handle = func(ctx context.Context, _ *scope.Scope, conn scope.Conn, ev event.Event) error {
		return conn.Send(ctx, reply{ev.Type()})
	}
	wrapped := counting(a)
	ctx, c := context.Background(), &conn{}
	one, err := wrapped.NewInstance(ctx, &scope.Scope{Key: "one"}, c)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := wrapped.NewInstance(ctx, &scope.Scope{Key: "two"}, c)
	_ = one.Handle(ctx, message{"a"})
	_ = one.Handle(ctx, reaction{"x"})
	_ = two.Handle(ctx, message{"b"})
	equal(t, j.take(), []string{
		`app start {} rest=""`, `app start {} rest=""`,
		`count one 1 chat.message`, `app chat.message "a"`,
		`count one 2 chat.reaction`, `app chat.reaction`,
		`count two 1 chat.message`, `app chat.message "b"`,
	})
	if len(c.sent) != 3 || c.sent[0] != (reply{"loud chat.message"}) {
		t.Fatalf("sent %v, want what went through the middleware's Conn", c.sent)
	}

	boom := errors.New("boom")
	if _, err := counting(&app{newErr: boom}).NewInstance(ctx, &scope.Scope{}, c); err != boom {
		t.Fatalf("refusal: err = %v, want the application's own", err)
	}
	none := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) { return nil, nil })
	if _, err := counting(none).NewInstance(ctx, &scope.Scope{}, c); err == nil || err.Error() != "router: application returned no instance" {
		t.Fatalf("no instance: err = %v", err)
	}
	lazy := router.EventMiddleware(func(context.Context, *scope.Scope, scope.Conn, router.Start) (scope.HandlerFunc, error) {
		return nil, nil
	})
	if _, err := lazy(a).NewInstance(ctx, &scope.Scope{}, c); err == nil {
		t.Fatal("a middleware that returned no handler made an instance")
	}
	mustPanic(t, func() { router.EventMiddleware(nil) }, "nil function")
	mustPanic(t, func() { counting(nil) }, "nil application")
}

func TestEventMiddlewareAllocatesNothingPerEvent(t *testing.T) {
	mw := router.EventMiddleware(func(_ context.Context, _ *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		next, err := start(conn)
		if err != nil {
			return nil, err
		}
		n := 0
		return func(ctx context.Context, ev event.Event) error { n++; return next(ctx, ev) }, nil
	})
	inner := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
	})
	ctx := context.Background()
	inst, err := router.Chain(mw, mw, mw)(inner).NewInstance(ctx, &scope.Scope{}, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event = reaction{"x"}
	if n := testing.AllocsPerRun(100, func() { _ = inst.Handle(ctx, ev) }); n != 0 {
		t.Fatalf("%v allocations per event, want 0", n)
	}
}

// Middleware that counts each scope's events and tells the instance's
// events apart from what it sends, in one function.
func ExampleEventMiddleware() {
	numbered := router.EventMiddleware(func(_ context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		next, err := start(conn)
		if err != nil {
			return nil, err // refused: no instance, nothing to count
		}
		n := 0
		return func(ctx context.Context, ev event.Event) error {
			n++
			fmt.Printf("%s event #%d: %s\n", s.Key, n, ev.Type())
			return next(ctx, ev)
		}, nil
	})
	app := router.With(printer("bot"), numbered)

	ctx := context.Background()
	inst, _ := app.NewInstance(ctx, &scope.Scope{Key: "chat:1"}, &conn{})
	_ = inst.Handle(ctx, message{"hi"})
	_ = inst.Handle(ctx, reaction{"👍"})
	// Output:
	// bot: new instance map[]
	// chat:1 event #1: chat.message
	// bot: chat.message
	// chat:1 event #2: chat.reaction
	// bot: chat.reaction
}
