package layer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

// flaky fails its first receives, as a layer whose server is away does.
type flaky struct {
	fails int
	next  layer.Receiver
}

func (f *flaky) Receive(ctx context.Context, ch string) (event.Event, error) {
	if f.fails > 0 {
		f.fails--
		return nil, errors.New("connection refused")
	}
	return f.next.Receive(ctx, ch)
}

func TestConsumeInOrderThroughOutages(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for i := range 5 {
		if err := l.Send(ctx, "work", layertest.Ping{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	var got []int
	var outages []time.Duration
	err = layer.Consume(ctx, &flaky{fails: 2, next: l}, "work", func(ev event.Event) error {
		got = append(got, ev.(layertest.Ping).N)
		if len(got) == 5 {
			return layer.ErrStopConsuming
		}
		return nil
	}, func(err error, retryIn time.Duration) { outages = append(outages, retryIn) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[0] != 0 || got[4] != 4 {
		t.Fatalf("got %v", got)
	}
	if len(outages) != 2 || outages[1] <= outages[0] {
		t.Fatalf("outages reported %v, want 2 with growing waits", outages)
	}
}

func TestConsumeReturnsTheHandlersErrorAndStopsOnClose(t *testing.T) {
	l, _ := memory.New(layer.Config{})
	ctx := context.Background()
	_ = l.Send(ctx, "c", layertest.Ping{N: 1})
	boom := errors.New("boom")
	if err := layer.Consume(ctx, l, "c", func(event.Event) error { return boom }, nil); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- layer.Consume(ctx, l, "c", func(event.Event) error { return nil }, nil) }()
	l.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Consume did not return when the layer closed")
	}
}
