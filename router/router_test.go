package router_test

import (
	"context"
	"testing"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestChain(t *testing.T) {
	j := &journal{}
	mw := router.Chain(tag("a", j), tag("b", j), tag("c", j))
	app := mw(newApp("app", j))
	ctx := context.Background()
	inst, err := app.NewInstance(ctx, &scope.Scope{}, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Handle(ctx, reaction{}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{
		"mw a {}", "mw b {}", "mw c {}", `app start {} rest=""`,
		"mw a chat.reaction", "mw b chat.reaction", "mw c chat.reaction", "app chat.reaction",
	})

	// With is the same as applying a chain, and a chain of chains nests.
	app = router.With(newApp("app", j), router.Chain(tag("a", j), tag("b", j)), tag("c", j))
	if _, err := app.NewInstance(ctx, &scope.Scope{}, &conn{}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{"mw a {}", "mw b {}", "mw c {}", `app start {} rest=""`})

	// No middleware: the application itself.
	leaf := newApp("leaf", j)
	if got := router.Chain()(leaf); got != scope.Application(leaf) {
		t.Fatalf("empty chain returned %v, want the application itself", got)
	}

	mustPanic(t, func() { router.Chain(tag("a", j), nil) }, "middleware 1 is nil")
	mustPanic(t, func() {
		router.Chain(func(scope.Application) scope.Application { return nil })(leaf)
	}, "middleware 0 returned a nil application")
	mustPanic(t, func() { router.Chain(tag("a", j))(nil) }, "nil application")
}
