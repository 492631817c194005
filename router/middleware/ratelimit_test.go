package middleware

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// clock is a fake time for RateLimit: waiting advances it at once.
type clock struct {
	t     time.Duration
	waits []time.Duration
	fail  error // returned by wait instead of waiting, when set
}

func (c *clock) option() RateOption {
	return func(cfg *rateConfig) {
		cfg.now = func() time.Duration { return c.t }
		cfg.wait = func(_ context.Context, d time.Duration) error {
			c.waits = append(c.waits, d)
			if c.fail != nil {
				return c.fail
			}
			c.t += d
			return nil
		}
	}
}

func TestRateLimitWaits(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	a := &app{}
	inst, err := RateLimit(10, 2, clk.option())(a).NewInstance(ctx, &scope.Scope{}, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(ev event.Event) {
		t.Helper()
		if err := inst.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	// The bucket starts full: a burst of two goes through at once.
	send(ping{})
	send(ping{})
	if len(clk.waits) != 0 {
		t.Fatalf("waited %v within the burst", clk.waits)
	}
	// The third waits for a token: 1/10 s.
	send(ping{})
	if len(clk.waits) != 1 || clk.waits[0] != 100*time.Millisecond {
		t.Fatalf("waits %v, want one of 100ms", clk.waits)
	}
	// Half a token earned; the next waits for the other half.
	clk.t += 50 * time.Millisecond
	send(ping{})
	if len(clk.waits) != 2 || clk.waits[1] != 50*time.Millisecond {
		t.Fatalf("waits %v, want a second of 50ms", clk.waits)
	}
	// A long pause refills the bucket, but only up to the burst.
	clk.t += time.Hour
	send(ping{})
	send(ping{})
	send(ping{})
	if len(clk.waits) != 3 || clk.waits[2] != 100*time.Millisecond {
		t.Fatalf("waits %v, want a third of 100ms", clk.waits)
	}
	// The final event is never held up, and takes no token.
	send(disconnect{scope.ReasonClosed})
	if len(clk.waits) != 3 {
		t.Fatalf("the final event waited: %v", clk.waits)
	}
	if n := len(a.inst.events); n != 8 {
		t.Fatalf("instance handled %d events, want all 8", n)
	}
}

func TestRateLimitWaitCancelled(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	a := &app{}
	inst, _ := RateLimit(1, 1, clk.option())(a).NewInstance(ctx, &scope.Scope{Type: "t", Key: "k"}, &conn{})
	if err := inst.Handle(ctx, ping{}); err != nil {
		t.Fatal(err)
	}
	clk.fail = context.Canceled
	err := inst.Handle(ctx, ping{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want it to wrap the context's error", err)
	}
	if len(a.inst.events) != 1 {
		t.Fatal("an event whose wait was cancelled reached the instance")
	}
	// The token promised to the cancelled event is given back: the next
	// event waits for one token, not two.
	clk.fail = nil
	if err := inst.Handle(ctx, ping{}); err != nil {
		t.Fatal(err)
	}
	if got := clk.waits[len(clk.waits)-1]; got != time.Second {
		t.Fatalf("waited %v, want 1s", got)
	}
}

func TestRateLimitRealClock(t *testing.T) {
	a := &app{}
	inst, _ := RateLimit(50, 1)(a).NewInstance(context.Background(), &scope.Scope{}, &conn{})
	start := time.Now()
	for range 3 {
		if err := inst.Handle(context.Background(), ping{}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 35*time.Millisecond {
		t.Fatalf("3 events at 50/s with a burst of 1 took %v, want about 40ms", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	slow, _ := RateLimit(0.001, 1)(a).NewInstance(ctx, &scope.Scope{}, &conn{})
	_ = slow.Handle(ctx, ping{})
	if err := slow.Handle(ctx, ping{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the wait to end with the context", err)
	}
}

func TestRateLimitReject(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	a := &app{}
	s := &scope.Scope{Type: "telegram", Key: "chat:1"}
	inst, _ := RateLimit(1, 1, clk.option(), Reject(nil))(a).NewInstance(ctx, s, &conn{})
	if err := inst.Handle(ctx, ping{}); err != nil {
		t.Fatal(err)
	}
	err := inst.Handle(ctx, ping{})
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if want := `middleware: rate limited: scope telegram:chat:1: "test.ping" event over 1 per second`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if len(clk.waits) != 0 || len(a.inst.events) != 1 {
		t.Fatalf("waits %v, events %d: want no wait and the event kept from the instance", clk.waits, len(a.inst.events))
	}

	// With a callback, the callback decides; nil drops the event.
	type rejected struct {
		s    *scope.Scope
		conn scope.Conn
		ev   event.Event
	}
	var got []rejected
	c := &conn{}
	a = &app{}
	inst, _ = RateLimit(1, 1, clk.option(), Reject(func(ctx context.Context, s *scope.Scope, conn scope.Conn, ev event.Event) error {
		got = append(got, rejected{s, conn, ev})
		return conn.Send(ctx, ping{})
	}))(a).NewInstance(ctx, s, c)
	for range 3 {
		if err := inst.Handle(ctx, ping{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0].s != s || got[0].conn != scope.Conn(c) || got[0].ev != event.Event(ping{}) {
		t.Fatalf("callback got %+v, want the two events over the limit with their scope and conn", got)
	}
	if len(a.inst.events) != 1 || len(c.sent) != 2 {
		t.Fatalf("instance got %d events and the callback sent %d, want 1 and 2", len(a.inst.events), len(c.sent))
	}
	// Time earns tokens back.
	clk.t += time.Second
	if err := inst.Handle(ctx, ping{}); err != nil || len(a.inst.events) != 2 {
		t.Fatalf("err = %v after a second; instance got %d events, want 2", err, len(a.inst.events))
	}
	if err := inst.Handle(ctx, disconnect{scope.ReasonIdle}); err != nil || len(a.inst.events) != 3 {
		t.Fatalf("err = %v; the final event must never be rejected", err)
	}
}

func TestRateLimitSetup(t *testing.T) {
	mustPanic(t, func() { RateLimit(0, 1) }, "RateLimit(0, 1)")
	mustPanic(t, func() { RateLimit(-1, 1) }, "rate must be positive")
	mustPanic(t, func() { RateLimit(1, 0) }, "burst at least 1")
	a := &app{}
	if got := RateLimit(math.Inf(1), 1)(a); got != scope.Application(a) {
		t.Fatal("an infinite rate wrapped the application")
	}
	boom := errors.New("boom")
	if _, err := RateLimit(1, 1)(&app{newErr: boom}).NewInstance(context.Background(), &scope.Scope{}, &conn{}); err != boom {
		t.Fatalf("err = %v, want the application's own", err)
	}
}

func TestRateLimitAllocs(t *testing.T) {
	ctx := context.Background()
	inst, _ := RateLimit(1e9, 1e6)(quiet).NewInstance(ctx, &scope.Scope{}, &conn{})
	var ev event.Event = ping{}
	if n := testing.AllocsPerRun(1000, func() { _ = inst.Handle(ctx, ev) }); n != 0 {
		t.Fatalf("%v allocations per event, want 0", n)
	}
}
