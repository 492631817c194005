package scope_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// EndWhere ends the live scopes it matches, each with its final event
// after what it had queued, and leaves the others.
func TestEndWhere(t *testing.T) {
	finals := make(chan string, 10)
	app := scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if f, ok := ev.(scope.Final); ok {
				finals <- s.Key + ":" + string(f.EndReason())
			}
			return nil
		}), nil
	})
	m, err := scope.NewManager(app, newProto(), scope.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, k := range []string{"a1", "a2", "b1"} {
		if err := m.Deliver(context.Background(), k, text{"x"}, func() *scope.Scope { return &scope.Scope{Type: "test"} }); err != nil {
			t.Fatal(err)
		}
	}
	n := m.EndWhere(func(key string) bool { return strings.HasPrefix(key, "a") },
		func(*scope.Scope) scope.Final { return bye{"moved"} })
	if n != 2 || m.Len() != 1 {
		t.Fatalf("ended %d, %d live; want 2 ended, 1 live", n, m.Len())
	}
	got := map[string]bool{<-finals: true, <-finals: true}
	if !got["a1:moved"] || !got["a2:moved"] {
		t.Errorf("finals %v", got)
	}
}
