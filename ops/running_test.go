package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/scope"
)

// TestRunningListsStuckHandlersLongestFirst: Running names the handlers
// the last scan found slow, with how long they have run now, the longest
// first, and drops one as soon as it returns.
func TestRunningListsStuckHandlersLongestFirst(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	w, err := ops.NewSlowHandlers(nil, ops.SlowOptions{After: 10 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan string)
	releases := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	app := w.Middleware()(blockingOn(started, releases))
	returned := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	for _, key := range []string{"a", "b"} {
		inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: "telegram", Adapter: "tg", Key: key}, &conn{})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer close(returned[key])
			_ = inst.Handle(context.Background(), ping{})
		}()
		<-started
		clk.Add(5 * time.Second) // a starts 5s before b
	}
	w.Scan() // a has run 10s, b 5s: only a is slow
	if got := w.Running(10); len(got) != 1 || got[0].Key != "a" || got[0].For != 10*time.Second || got[0].Adapter != "tg" || got[0].Event != "test.ping" {
		t.Fatalf("Running = %+v, want a alone, at 10s", got)
	}
	clk.Add(7 * time.Second)
	w.Scan()
	got := w.Running(10)
	if len(got) != 2 || got[0].Key != "a" || got[0].For != 17*time.Second || got[1].Key != "b" || got[1].For != 12*time.Second {
		t.Fatalf("Running = %+v, want a (17s) then b (12s)", got)
	}
	if got := w.Running(1); len(got) != 1 || got[0].Key != "a" {
		t.Fatalf("Running(1) = %+v, want the longest alone", got)
	}
	close(releases["a"])
	<-returned["a"]
	if got := w.Running(10); len(got) != 1 || got[0].Key != "b" {
		t.Fatalf("Running = %+v after a returned, want b", got)
	}
	close(releases["b"])
	<-returned["b"]
	if got := w.Running(10); len(got) != 0 {
		t.Fatalf("Running = %+v after every handler returned", got)
	}
}

// blockingOn's handlers block until the channel of their scope's key is
// closed.
func blockingOn(started chan<- string, release map[string]chan struct{}) scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if _, final := ev.(scope.Final); final {
				return nil
			}
			started <- s.Key
			<-release[s.Key]
			return nil
		}), nil
	})
}
