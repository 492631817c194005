package router_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
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

func TestFallback(t *testing.T) {
	j := &journal{}
	ctx := context.Background()
	protocols := router.ByProtocol(router.Routes{"websocket": newApp("web", j)}, router.Fallback(newApp("chat", j)))
	for _, typ := range []string{"websocket", "telegram", "slack"} {
		if _, err := protocols.NewInstance(ctx, &scope.Scope{Type: typ}, &conn{}); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	equal(t, j.take(), []string{`web start {} rest=""`, `chat start {} rest=""`, `chat start {} rest=""`})

	channels := router.ByChannel(router.Routes{"mail": newApp("mail", j)}, router.Fallback(newApp("any", j)))
	if _, err := channels.NewInstance(ctx, &scope.Scope{Type: "channel", Channel: "thumbs"}, &conn{}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{`any start {} rest=""`})

	mustPanic(t, func() { router.Fallback(nil) }, "nil fallback")
	mustPanic(t, func() { router.ByProtocol(nil, nil) }, "nil option")
}

func TestErrNoRouteIsTheEventVocabularys(t *testing.T) {
	if router.ErrNoRoute != event.ErrNoRoute {
		t.Fatal("router.ErrNoRoute is not event.ErrNoRoute: adapters testing for one miss the other")
	}
}

// says reports a fixed set of protocols.
type says map[string]bool

func (says) NewInstance(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
	return nil, errors.New("unused")
}
func (s says) HandlesProtocol(p string) bool { return s[p] }

func TestHandlesProtocolAsksWhatARouteLeadsTo(t *testing.T) {
	web, chat, mail := says{"websocket": true}, says{"telegram": true, "slack": true}, says{"channel": true}
	silent := newApp("silent", nil) // says nothing: assumed to handle anything

	paths := router.NewPathRouter()
	paths.Handle("/chat/", web)
	commands := router.NewCommandRouter()
	commands.Handle("start", chat)
	withFallback := router.NewCommandRouter()
	withFallback.Fallback(mail)

	for _, tt := range []struct {
		name string
		app  scope.Application
		want map[string]bool
	}{
		{"protocol router", router.ByProtocol(router.Routes{"websocket": paths, "telegram": chat, "channel": router.ByChannel(router.Routes{"mail": mail})}),
			map[string]bool{"websocket": true, "telegram": true, "channel": true, "slack": false, "http": false}},
		// telegram routed to a bot that does not handle it: the mistake a
		// server's check catches.
		{"misrouted", router.ByProtocol(router.Routes{"telegram": web}), map[string]bool{"telegram": false}},
		{"fallback", router.ByProtocol(router.Routes{"websocket": web}, router.Fallback(chat)),
			map[string]bool{"websocket": true, "slack": true, "http": false}},
		{"silent application", router.ByProtocol(router.Routes{"http": silent}), map[string]bool{"http": true, "slack": false}},
		{"path router", paths, map[string]bool{"websocket": true, "telegram": false}},
		{"empty path router", router.NewPathRouter(), map[string]bool{"websocket": false}},
		{"command router", commands, map[string]bool{"telegram": true, "websocket": false}},
		{"command fallback", withFallback, map[string]bool{"channel": true, "telegram": false}},
		{"through middleware", router.With(router.ByProtocol(router.Routes{"telegram": chat}), router.EventMiddleware(passThrough)),
			map[string]bool{"telegram": true, "slack": false}},
	} {
		for p, want := range tt.want {
			if got := router.HandlesProtocol(tt.app, p); got != want {
				t.Errorf("%s: HandlesProtocol(%q) = %v, want %v", tt.name, p, got, want)
			}
		}
	}
	if !router.HandlesProtocol(silent, "anything") {
		t.Error("an application that says nothing must be assumed to handle anything")
	}
}

func passThrough(_ context.Context, _ *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
	return start(conn)
}
