package scope_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/scope"
)

// TestAckAfterHandled: an event's ack comes once its handler returned,
// not when it was queued.
func TestAckAfterHandled(t *testing.T) {
	release := make(chan struct{})
	r := newRecorder()
	r.hook = func(_ string, ev event.Event) error {
		if ev.(text).S == "slow" {
			<-release
		}
		return nil
	}
	m := newManager(t, r, newProto(), scope.Config{})
	acks := make(chan string, 2)
	for _, s := range []string{"slow", "next"} {
		if err := m.DeliverAck(context.Background(), "k", text{s}, newScope, func(err error) {
			if err != nil {
				t.Errorf("ack(%s): %v", s, err)
			}
			acks <- s
		}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case s := <-acks:
		t.Fatalf("%s acknowledged before its handler returned", s)
	default:
	}
	close(release)
	for _, want := range []string{"slow", "next"} {
		if got := <-acks; got != want {
			t.Fatalf("ack %q, want %q", got, want)
		}
		next(t, r.events)
	}
}

// TestAckAfterFailedHandler: a handler's error does not hold its event
// back: it is done, and the manager logs the failure.
func TestAckAfterFailedHandler(t *testing.T) {
	r := newRecorder()
	r.hook = func(string, event.Event) error { return errors.New("boom") }
	m := newManager(t, r, newProto(), scope.Config{})
	acked := make(chan error, 1)
	if err := m.DeliverAck(context.Background(), "k", text{"x"}, newScope, func(err error) { acked <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-acked; err != nil {
		t.Fatalf("ack: %v, want nil", err)
	}
}

func TestTryDeliverAndTryPostOnFullInbox(t *testing.T) {
	started, release := make(chan struct{}, 2), make(chan struct{})
	r := newRecorder()
	r.hook = func(string, event.Event) error { started <- struct{}{}; <-release; return nil }
	m := newManager(t, r, newProto(), scope.Config{InboxSize: 1})
	if err := m.TryDeliver("k", text{"1"}, newScope, nil); err != nil {
		t.Fatal(err)
	}
	<-started // the worker took "1" off the inbox and blocks in it
	if err := m.TryDeliver("k", text{"2"}, newScope, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.TryDeliver("k", text{"3"}, newScope, nil); !errors.Is(err, scope.ErrInboxFull) {
		t.Fatalf("TryDeliver on a full inbox: %v, want ErrInboxFull", err)
	}
	if err := m.TryPost("k", text{"3"}); !errors.Is(err, scope.ErrInboxFull) {
		t.Fatalf("TryPost on a full inbox: %v, want ErrInboxFull", err)
	}
	if err := m.TryPost("none", text{"x"}); !errors.Is(err, scope.ErrEnded) {
		t.Fatalf("TryPost without a scope: %v, want ErrEnded", err)
	}
	close(release)
	next(t, r.events)
	next(t, r.events)
}

// TestIdleTimeoutOnInjectedClock: the idle timeout reads the injected
// clock, so a test ends a scope without waiting ten minutes.
func TestIdleTimeoutOnInjectedClock(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	p := newProto()
	r := newRecorder()
	log, _ := quietLogger(t)
	m, err := scope.NewManager(r, p, scope.Config{}, scope.WithLogger(log), scope.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	deliverText(t, m, "k", "hi")
	next(t, r.events)
	waitIdle(t, m, "k")
	clock.NextWait(t)
	clock.Advance(scope.DefaultIdleTimeout - time.Second)
	clock.NextWait(t) // the sweeper looked, found nothing, and waits again
	if m.Len() != 1 {
		t.Fatalf("scope ended before its idle timeout: %d live", m.Len())
	}
	clock.Advance(2 * time.Second)
	if end := nextEnd(t, p.ended); end.reason != scope.ReasonIdle {
		t.Fatalf("ended with %q, want idle", end.reason)
	}
}

// TestShutdownLeavesAStuckHandler: a handler that ignores its context does
// not hold Shutdown past its deadline, and the log names it.
func TestShutdownLeavesAStuckHandler(t *testing.T) {
	stuck, release := make(chan struct{}), make(chan struct{})
	app := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if _, ok := ev.(text); ok {
				close(stuck)
				<-release // ignores its context
			}
			return nil
		}), nil
	})
	log, buf := quietLogger(t)
	m, err := scope.NewManager(app, newProto(), scope.Config{}, scope.WithLogger(log), scope.WithCloseWait(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { close(release); _ = m.Shutdown(context.Background()) }()
	deliverText(t, m, "stuck-key", "x")
	<-stuck
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = m.Shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	// A bound that could only fail if Shutdown waited for the handler.
	if took > 2*time.Second {
		t.Fatalf("Shutdown took %v with a 50ms deadline", took)
	}
	log1 := buf.String()
	if !strings.Contains(log1, "key=stuck-key") || !strings.Contains(log1, "event=test.text") {
		t.Fatalf("log does not name the stuck scope and its event:\n%s", log1)
	}
	if err := m.Close(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a stuck handler: %v, want DeadlineExceeded", err)
	}
}
