package timer_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/timer"
)

// heldAcks is a store whose Ack calls wait until released, and say when
// they start.
type heldAcks struct {
	*timer.Memory
	started chan []string // names of each Ack's claims
	release chan struct{}
}

func (h *heldAcks) Ack(ctx context.Context, claims ...timer.Claim) error {
	var names []string
	for _, c := range claims {
		names = append(names, c.Name)
	}
	h.started <- names
	<-h.release
	return h.Memory.Ack(ctx, claims...)
}

// handling is a Deliverer whose handlers return when the test says: it
// hands the test each delivered timer's ack.
type handling chan handled

type handled struct {
	name string
	ack  scope.Ack
}

func (h handling) Deliver(_ context.Context, _ string, ev event.Event, _ func() *scope.Scope, ack scope.Ack) error {
	h <- handled{name: ev.(Due).Text, ack: ack}
	return nil
}

func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not within 5s", what)
		var zero T
		return zero
	}
}

// TestRunnerSettlesWithoutWaiting: a timer whose handler returned is
// settled at once, not after the settle already under way for another:
// what a crash can make come twice is only what was being handled or
// settled at that moment.
func TestRunnerSettlesWithoutWaiting(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := &heldAcks{Memory: new(timer.Memory), started: make(chan []string, 2), release: make(chan struct{})}
	for _, name := range []string{"a", "b"} {
		_ = st.Schedule(context.Background(), timer.Timer{Adapter: "chat", Key: name, Name: name, At: clock.Now(), Event: Due{Text: name}})
	}
	h := make(handling, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- timer.NewRunner(st, "chat", h, timer.WithRunnerClock(clock)).Run(ctx) }()

	first, second := receive(t, h, "first delivery"), receive(t, h, "second delivery")
	first.ack(nil)
	if got := receive(t, st.started, "the first settle"); len(got) != 1 || got[0] != first.name {
		t.Fatalf("first settle of %v; want [%s]", got, first.name)
	}
	second.ack(nil) // while the first settle is still under way
	if got := receive(t, st.started, "the second settle, while the first is under way"); len(got) != 1 || got[0] != second.name {
		t.Fatalf("second settle of %v; want [%s]", got, second.name)
	}
	close(st.release)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run = %v", err)
	}
	if n := st.Len(); n != 0 {
		t.Fatalf("%d timers left once both were handled and Run returned", n)
	}
}

// TestRunnerSettlesAfterItsContextEnds: a handler that returns after Run's
// context ended, within the lease, still has its timer settled before Run
// returns.
func TestRunnerSettlesAfterItsContextEnds(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := new(timer.Memory)
	_ = st.Schedule(context.Background(), timer.Timer{Adapter: "chat", Key: "k", Name: "n", At: clock.Now(), Event: Due{Text: "n"}})
	h := make(handling, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- timer.NewRunner(st, "chat", h, timer.WithRunnerClock(clock)).Run(ctx) }()
	d := receive(t, h, "the delivery")
	cancel()
	clock.NextWait(t) // Run waits for the handler, at most the lease
	d.ack(nil)
	if err := receive(t, done, "Run's return"); err != context.Canceled {
		t.Fatalf("Run = %v", err)
	}
	if n := st.Len(); n != 0 {
		t.Fatalf("%d timers left: the handled timer was not settled", n)
	}
}

// TestRunOnceGivesUpAtTheLease: RunOnce waits for a handler at most the
// lease, and leaves its timer claimed, to come again; a handler that
// returns later does not settle it.
func TestRunOnceGivesUpAtTheLease(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := new(timer.Memory)
	_ = st.Schedule(context.Background(), timer.Timer{Adapter: "chat", Key: "k", Name: "n", At: clock.Now(), Event: Due{Text: "n"}})
	h := make(handling, 1)
	r := timer.NewRunner(st, "chat", h, timer.WithRunnerClock(clock), timer.WithLease(time.Minute), timer.WithLogger(slog.New(slog.DiscardHandler)))
	type result struct {
		n   int
		err error
	}
	done := make(chan result)
	go func() {
		n, err := r.RunOnce(context.Background())
		done <- result{n, err}
	}()
	d := receive(t, h, "the delivery")
	if w := clock.NextWait(t); w != time.Minute {
		t.Fatalf("RunOnce waits %v; want the lease", w)
	}
	clock.Advance(time.Minute)
	if got := receive(t, done, "RunOnce's return"); got.n != 1 || got.err != nil {
		t.Fatalf("RunOnce = %d, %v", got.n, got.err)
	}
	d.ack(nil) // too late
	cs, err := st.Claim(context.Background(), "chat", clock.Now(), 10, time.Minute)
	if err != nil || len(cs) != 1 {
		t.Fatalf("after the lease claimed %d, %v; want the timer again", len(cs), err)
	}
}

// TestRunnerLogsALateSettle: a timer settled after its lease ran out may
// have been claimed and delivered again meanwhile: the runner says which.
func TestRunnerLogsALateSettle(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	st := new(timer.Memory)
	_ = st.Schedule(context.Background(), timer.Timer{Adapter: "chat", Key: "k", Name: "slow", At: clock.Now(), Event: Due{Text: "slow"}})
	h := make(handling, 1)
	logs := new(logtest.Buffer)
	r := timer.NewRunner(st, "chat", h, timer.WithRunnerClock(clock), timer.WithLease(time.Minute), timer.WithPollInterval(time.Hour),
		timer.WithLogger(logs.Logger()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	d := receive(t, h, "the delivery")
	clock.NextWait(t) // the poll: nothing more due
	clock.Advance(time.Minute)
	d.ack(nil)
	cancel()
	if err := receive(t, done, "Run's return"); err != context.Canceled {
		t.Fatalf("Run = %v", err)
	}
	if got := logs.String(); !strings.Contains(got, "settled after its lease ran out") || !strings.Contains(got, "name=slow") {
		t.Fatalf("logged %q; want the late settle of slow", got)
	}
}
