package router_test

import (
	"context"
	"fmt"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// printer is an application whose instances print what they get.
func printer(name string) scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		fmt.Printf("%s: new instance %v\n", name, s.Params())
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if args := router.CommandArgs(ctx); args != "" {
				fmt.Printf("%s: %s with %q\n", name, ev.Type(), args)
				return nil
			}
			fmt.Printf("%s: %s\n", name, ev.Type())
			return nil
		}), nil
	})
}

func ExampleByProtocol() {
	paths := router.NewPathRouter()
	paths.Handle("/chat/{room}/", printer("chat"))
	paths.Route("/api", func(api *router.PathRouter) {
		api.Handle("/users/{id:[0-9]+}", printer("user"))
	})
	app := router.ByProtocol(router.Routes{
		"websocket": paths,
		"telegram":  printer("bot"),
	})

	ctx, c := context.Background(), &conn{}
	for _, s := range []*scope.Scope{
		{Type: "websocket", Path: "/chat/lobby/"},
		{Type: "websocket", Path: "/api/users/42"},
		{Type: "telegram", Key: "chat:1"},
		{Type: "websocket", Path: "/x/"},
		{Type: "slack"},
	} {
		if _, err := app.NewInstance(ctx, s, c); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// chat: new instance map[room:lobby]
	// user: new instance map[id:42]
	// bot: new instance map[]
	// router: no route for websocket path "/x/"
	// router: no route for protocol "slack"
}

// A bot for the web page, and one chat bot for every other protocol,
// whichever adapters the server runs: the fallback serves the protocols
// that no route names.
func ExampleFallback() {
	app := router.ByProtocol(router.Routes{"websocket": printer("web")},
		router.Fallback(printer("chat")))

	ctx, c := context.Background(), &conn{}
	for _, s := range []*scope.Scope{
		{Type: "websocket", Path: "/"},
		{Type: "telegram", Key: "chat:1"},
		{Type: "irc", Key: "#switchboard"},
	} {
		if _, err := app.NewInstance(ctx, s, c); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println(router.HandlesProtocol(app, "slack"))
	// Output:
	// web: new instance map[]
	// chat: new instance map[]
	// chat: new instance map[]
	// true
}

func ExampleCommandRouter() {
	commands := router.NewCommandRouter()
	commands.Handle("start", printer("start"))
	commands.Handle("remind", printer("remind"))
	commands.Fallback(printer("chat"))

	ctx := context.Background()
	s := &scope.Scope{Type: "telegram", Key: "chat:1", Bot: scope.User{Username: "switchboard_bot"}}
	inst, _ := commands.NewInstance(ctx, s, &conn{})
	for _, ev := range []event.Event{
		message{"/start"},
		message{"hello"},
		message{"/remind@switchboard_bot tomorrow 9:00 call Ada"},
		message{"/remind in 5m tea"},
		disconnect{scope.ReasonIdle},
	} {
		if err := inst.Handle(ctx, ev); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// start: new instance map[command:start]
	// start: chat.message
	// chat: new instance map[]
	// chat: chat.message
	// remind: new instance map[command:remind]
	// remind: chat.message with "tomorrow 9:00 call Ada"
	// remind: chat.message with "in 5m tea"
	// start: chat.disconnect
	// chat: chat.disconnect
	// remind: chat.disconnect
}

func ExampleChain() {
	trace := func(name string) router.Middleware {
		return func(next scope.Application) scope.Application {
			return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, c scope.Conn) (scope.Instance, error) {
				fmt.Println(name, "sees the scope")
				inst, err := next.NewInstance(ctx, s, c)
				if err != nil {
					return nil, err
				}
				return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
					fmt.Println(name, "sees", ev.Type())
					return inst.Handle(ctx, ev)
				}), nil
			})
		}
	}
	app := router.Chain(trace("outer"), trace("inner"))(printer("app"))

	ctx := context.Background()
	inst, _ := app.NewInstance(ctx, &scope.Scope{}, &conn{})
	_ = inst.Handle(ctx, reaction{"🎉"})
	// Output:
	// outer sees the scope
	// inner sees the scope
	// app: new instance map[]
	// outer sees chat.reaction
	// inner sees chat.reaction
	// app: chat.reaction
}
