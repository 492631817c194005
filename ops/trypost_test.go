package ops_test

import (
	"context"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/ops/status"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// tryConn is a Conn that can post without waiting, as the scope manager's.
type tryConn struct {
	conn
	tried []event.Event
}

func (c *tryConn) TryPost(ev event.Event) error {
	c.tried = append(c.tried, ev)
	return nil
}

// connOf returns the Conn an instance of an application wrapped in mw gets
// when the scope's Conn is c.
func connOf(t *testing.T, mw router.Middleware, c scope.Conn) scope.Conn {
	t.Helper()
	var got scope.Conn
	app := mw(scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, c scope.Conn) (scope.Instance, error) {
		got = c
		return scope.HandlerFunc(func(context.Context, event.Event) error { return nil }), nil
	}))
	start(t, app, "websocket", "k", c)
	return got
}

// The counting middlewares keep the scope's TryPost, through which a
// channel layer delivers to every instance of a process from one receiver,
// and do not add one to a Conn without it.
func TestCountingMiddlewaresKeepTryPost(t *testing.T) {
	m, _ := newMetrics(t)
	for name, mw := range map[string]router.Middleware{"metrics": m.Middleware(), "traffic": status.NewTraffic().Middleware()} {
		c := new(tryConn)
		try, ok := connOf(t, mw, c).(scope.TryPoster)
		if !ok {
			t.Fatalf("%s: the instance's Conn hides TryPost", name)
		}
		if err := try.TryPost(ping{}); err != nil || len(c.tried) != 1 {
			t.Errorf("%s: TryPost = %v, reached the scope %d times", name, err, len(c.tried))
		}
		if _, ok := connOf(t, mw, new(conn)).(scope.TryPoster); ok {
			t.Errorf("%s: a Conn without TryPost got one", name)
		}
	}
}
