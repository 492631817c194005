package consumer_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/router/middleware"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

type benchState struct {
	N    int
	Last string
}

// statefulEchoer is echoer with state: it counts the frames it echoes when
// count is set, and only reads its state otherwise.
type statefulEchoer struct {
	consumer.WebSocket
	consumer.Stateful[benchState]
	count bool
}

func (e *statefulEchoer) Receive(ctx context.Context, r wsevent.Receive) error {
	if e.count {
		e.State().N++
	}
	return e.SendText(ctx, r.Text)
}

// statefulStack is stack with a session store and a consumer with state.
func statefulStack(count bool) scope.Application {
	paths := router.NewPathRouter()
	paths.Handle("/echo/{room}/", consumer.New(func() *statefulEchoer { return &statefulEchoer{count: count} },
		consumer.On((*statefulEchoer).Receive)))
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return router.Chain(middleware.Recover, middleware.Logger(log), middleware.RateLimit(1e12, 1<<30),
		router.Middleware(session.Middleware(memory.New())))(
		router.ByProtocol(router.Routes{"websocket": paths}))
}

// stateCases are the two consumers with state the benchmarks compare:
// one that reads its state per event, one that also changes it (count).
var stateCases = []struct {
	name  string
	count bool
}{{"reading", false}, {"changing", true}}

// BenchmarkEventPathState is BenchmarkEventPath with a consumer whose state
// lives in the in-memory session store: "reading" loads it before each
// event and finds it unchanged after; "changing" also saves it.
func BenchmarkEventPathState(b *testing.B) {
	for _, bc := range stateCases {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			inst, err := statefulStack(bc.count).NewInstance(ctx, &scope.Scope{Type: "websocket", Key: "c1", Path: "/echo/lobby/"}, discardConn{})
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
		})
	}
}

// BenchmarkStateCost is what a state on the memory store adds per event
// to BenchmarkEventPath, measured side by side: blocks of events go to
// an instance without state and one with it in turn, so that the load of
// a shared machine, which changes from one second to the next, weighs on
// both alike. It reports the medians over pairs of blocks of the plain
// path's time per event (base-ns/event), the state's addition
// (added-ns/event) and their ratio (x-base); ns/op is the time of one
// event of each.
func BenchmarkStateCost(b *testing.B) {
	for _, bc := range stateCases {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			plain, err := stack().NewInstance(ctx, &scope.Scope{Type: "websocket", Path: "/echo/lobby/"}, discardConn{})
			if err != nil {
				b.Fatal(err)
			}
			stateful, err := statefulStack(bc.count).NewInstance(ctx, &scope.Scope{Type: "websocket", Key: "c1", Path: "/echo/lobby/"}, discardConn{})
			if err != nil {
				b.Fatal(err)
			}
			texts := benchTexts()
			run := func(inst scope.Instance, n int) time.Duration {
				start := time.Now()
				for i := range n {
					if err := inst.Handle(ctx, wsevent.Receive{Text: texts[i%len(texts)]}); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			const block = 256
			var base, added, ratio []float64
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += block {
				n := min(block, b.N-done)
				var p, s time.Duration
				if len(base)%2 == 0 { // alternate which goes first
					p, s = run(plain, n), run(stateful, n)
				} else {
					s, p = run(stateful, n), run(plain, n)
				}
				base = append(base, float64(p)/float64(n))
				added = append(added, float64(s-p)/float64(n))
				ratio = append(ratio, float64(s)/float64(p))
			}
			b.ReportMetric(median(base), "base-ns/event")
			b.ReportMetric(median(added), "added-ns/event")
			b.ReportMetric(median(ratio), "x-base")
		})
	}
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}
