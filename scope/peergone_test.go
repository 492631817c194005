package scope_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/scope"
)

// A handler that fails because its peer went away (an adapter's error
// wrapping ErrPeerGone) ends its scope with a debug line, not an error.
func TestPeerGoneIsLoggedAtDebug(t *testing.T) {
	var logs logtest.Buffer
	r := newRecorder()
	r.hook = func(string, event.Event) error {
		return fmt.Errorf("write: connection reset by peer: %w", scope.ErrPeerGone)
	}
	p := newProto()
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := scope.NewManager(r, p, scope.Config{IdleTimeout: -1}, scope.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	deliverText(t, m, "k", "hi")
	if end := nextEnd(t, p.ended); end.reason != scope.ReasonError {
		t.Fatalf("ended with %v", end.reason)
	}
	logs.Await(t, "level=DEBUG msg=\"scope ended: its peer went away\"", 5e9)
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("an error logged for a peer that left:\n%s", logs.String())
	}
}
