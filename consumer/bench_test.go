package consumer_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/router/middleware"
	"github.com/switchboard-bots/switchboard/scope"
)

// echoer answers each frame with its text: one inbound and one outbound
// event per operation.
type echoer struct{ consumer.WebSocket }

func (e *echoer) Receive(ctx context.Context, r wsevent.Receive) error {
	return e.SendText(ctx, r.Text)
}

type discardConn struct{}

func (discardConn) Send(context.Context, event.Event) error { return nil }
func (discardConn) Post(context.Context, event.Event) error { return nil }

// stack is a production-shaped application: recover, logging and rate
// limiting middleware, a protocol router, a path router with a captured
// parameter, and the consumer.
func stack() scope.Application {
	paths := router.NewPathRouter()
	paths.Handle("/echo/{room}/", consumer.New(func() *echoer { return new(echoer) }, consumer.On((*echoer).Receive)))
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return router.Chain(middleware.Recover, middleware.Logger(log), middleware.RateLimit(1e12, 1<<30))(
		router.ByProtocol(router.Routes{"websocket": paths}))
}

// BenchmarkEventPath: one event through middleware, routers and a consumer
// handler that sends one event back, in-process. The routers chose the
// consumer when the instance was made; per event only the middleware and
// the consumer's dispatch run.
func BenchmarkEventPath(b *testing.B) {
	ctx := context.Background()
	inst, err := stack().NewInstance(ctx, &scope.Scope{Type: "websocket", Path: "/echo/lobby/"}, discardConn{})
	if err != nil {
		b.Fatal(err)
	}
	texts := benchTexts()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := inst.Handle(ctx, wsevent.Receive{Text: texts[i%len(texts)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventPathThroughManager adds the scope manager: the inbox, the
// per-scope ordering and the worker goroutine, with many scopes in
// parallel.
func BenchmarkEventPathThroughManager(b *testing.B) {
	m, err := scope.NewManager(stack(), nopProtocol{}, scope.Config{IdleTimeout: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	newScope := func() *scope.Scope { return &scope.Scope{Type: "websocket", Path: "/echo/lobby/"} }
	keys := make([]string, 256)
	for i := range keys {
		keys[i] = "conn" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if err := m.Deliver(ctx, keys[i%len(keys)], wsevent.Receive{Text: "hi"}, newScope); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type nopProtocol struct{}

func (nopProtocol) Send(context.Context, *scope.Scope, event.Event) error { return nil }
func (nopProtocol) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return wsevent.Disconnect{Code: wsevent.CloseGoingAway, Reason: r}
}

// benchTexts returns the 1,024 different texts the event-path benchmarks
// send in turn.
func benchTexts() []string {
	texts := make([]string, 1024)
	for i := range texts {
		texts[i] = "message " + strconv.Itoa(i)
	}
	return texts
}
