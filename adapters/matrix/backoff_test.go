package matrix_test

import (
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
)

// TestSyncBackoff: failed syncs are retried after waits that double from
// retry.min_backoff to retry.max_backoff, and the sync goes on once the
// homeserver answers.
func TestSyncBackoff(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	clock := clocktest.New(time.Unix(0, 0))
	cfg := testConfig(srv)
	cfg.Retry = matrix.Retry{MinBackoff: time.Second, MaxBackoff: 4 * time.Second}
	rec := newRecorder()
	run(t, newAdapter(t, cfg, nil, matrix.WithClock(clock)), rec)
	srv.FailSyncs(5)
	for _, want := range []time.Duration{1, 2, 4, 4, 4} {
		if d := clock.NextWait(t); d != want*time.Second {
			t.Fatalf("waited %v after a failed sync, want %v", d, want*time.Second)
		}
		clock.Advance(want * time.Second)
	}
	srv.Say(roomOf("a"), user, "back")
	if m := rec.next(t); m.Body != "back" {
		t.Fatalf("got %q after the homeserver came back", m.Body)
	}
}
