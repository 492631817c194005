package throttle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/throttle"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
)

// waitAsync takes a token in the background.
func waitAsync(ctx context.Context, b *throttle.Bucket) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := b.Wait(ctx)
		done <- err
	}()
	return done
}

func TestBurstThenOnePerInterval(t *testing.T) {
	clock := clocktest.New(time.Unix(1_000_000, 0))
	b := throttle.New(5, 2*time.Second, clock)
	for i := range 5 {
		if d, err := b.Wait(context.Background()); d != 0 || err != nil {
			t.Fatalf("token %d of the burst waited %v (%v)", i+1, d, err)
		}
	}
	for i := 6; i <= 9; i++ {
		done := waitAsync(context.Background(), b)
		if d := clock.NextWait(t); d != 2*time.Second {
			t.Fatalf("token %d waits %v, want 2s", i, d)
		}
		select {
		case <-done:
			t.Fatalf("token %d taken before its time", i)
		default:
		}
		clock.Advance(2 * time.Second)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestRefillsWhileIdle(t *testing.T) {
	clock := clocktest.New(time.Unix(1_000_000, 0))
	b := throttle.New(3, time.Second, clock)
	for range 3 {
		b.Wait(context.Background())
	}
	clock.Advance(2 * time.Second) // two tokens back, not three
	for i := range 2 {
		if d, _ := b.Wait(context.Background()); d != 0 {
			t.Fatalf("token %d after an idle spell waited %v", i+1, d)
		}
	}
	done := waitAsync(context.Background(), b)
	if d := clock.NextWait(t); d != time.Second {
		t.Fatalf("the third token waits %v, want 1s", d)
	}
	clock.Advance(time.Second)
	<-done
}

func TestCancelledWaitGivesItsTokenBack(t *testing.T) {
	clock := clocktest.New(time.Unix(1_000_000, 0))
	b := throttle.New(1, time.Second, clock)
	b.Wait(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := waitAsync(ctx, b)
	clock.NextWait(t)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
	// The cancelled reservation is returned: the next caller waits one
	// interval, not two.
	done = waitAsync(context.Background(), b)
	if d := clock.NextWait(t); d != time.Second {
		t.Fatalf("after a cancelled wait the next waits %v, want 1s", d)
	}
	clock.Advance(time.Second)
	<-done
}
