package router_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestByProtocol(t *testing.T) {
	ws := &instance{a: &app{}}
	routes := router.Routes{
		"websocket": scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
			return ws, nil
		}),
		"telegram": newApp("telegram", nil),
	}
	protocols := router.ByProtocol(routes)
	delete(routes, "websocket") // the router keeps its own copy

	ctx := context.Background()
	got, err := protocols.NewInstance(ctx, &scope.Scope{Type: "websocket", Path: "/x"}, &conn{})
	if err != nil || got != ws {
		t.Fatalf("websocket: got %v, %v; want the route's own instance", got, err)
	}
	_, err = protocols.NewInstance(ctx, &scope.Scope{Type: "slack"}, &conn{})
	if !errors.Is(err, router.ErrNoRoute) || err.Error() != `router: no route for protocol "slack"` {
		t.Fatalf("slack: err = %v", err)
	}
	boom := errors.New("boom")
	failing := router.ByProtocol(router.Routes{"http": &app{newErr: boom}})
	if _, err := failing.NewInstance(ctx, &scope.Scope{Type: "http"}, &conn{}); err != boom {
		t.Fatalf("err = %v, want the route's own error", err)
	}

	mustPanic(t, func() { router.ByProtocol(router.Routes{"": newApp("x", nil)}) }, "empty protocol name")
	mustPanic(t, func() { router.ByProtocol(router.Routes{"http": nil}) }, `nil application for protocol "http"`)
}

func TestByChannel(t *testing.T) {
	j := &journal{}
	channels := router.ByChannel(router.Routes{
		"thumbnails": newApp("thumbs", j),
		"mail":       newApp("mail", j),
	})
	ctx := context.Background()
	if _, err := channels.NewInstance(ctx, &scope.Scope{Type: "channel", Channel: "mail"}, &conn{}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{`mail start {} rest=""`})
	_, err := channels.NewInstance(ctx, &scope.Scope{Type: "channel", Channel: "thumbnail"}, &conn{})
	if !errors.Is(err, router.ErrNoRoute) || err.Error() != `router: no route for channel "thumbnail"` {
		t.Fatalf("err = %v", err)
	}
	mustPanic(t, func() { router.ByChannel(router.Routes{"": newApp("x", nil)}) }, "empty channel name")
	mustPanic(t, func() { router.ByChannel(router.Routes{"mail": nil}) }, `nil application for channel "mail"`)
}
