package ops_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

func TestLayerCountsFailuresByKind(t *testing.T) {
	m, reg := newMetrics(t)
	inner, err := memory.New(layer.Config{Capacity: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := m.Layer()(inner)
	ctx := context.Background()
	msg := event.Message{"type": "chat.message"}

	// Successes count nothing.
	if err := l.Send(ctx, "room", msg); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Receive(ctx, "room"); err != nil {
		t.Fatal(err)
	}
	// A full channel is backpressure, not a failure.
	l.Send(ctx, "slow", msg)
	if err := l.Send(ctx, "slow", msg); !errors.Is(err, layer.ErrChannelFull) {
		t.Fatalf("Send = %v, want ErrChannelFull unchanged", err)
	}
	// A Receive that stops waiting is the caller's decision.
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	_, err = l.Receive(short, "empty")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive = %v, want the deadline", err)
	}
	// An invalid name is a real error.
	if err := l.GroupAdd(ctx, "bad group!", "room"); !errors.Is(err, layer.ErrInvalidName) {
		t.Fatalf("GroupAdd = %v, want ErrInvalidName", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(ctx); !errors.Is(err, layer.ErrClosed) {
		t.Fatalf("Flush = %v, want ErrClosed", err)
	}

	want := `
# HELP switchboard_layer_errors_total Channel layer operations that failed, by operation and kind of failure (error, channel_full, closed, canceled).
# TYPE switchboard_layer_errors_total counter
switchboard_layer_errors_total{kind="canceled",op="receive"} 1
switchboard_layer_errors_total{kind="channel_full",op="send"} 1
switchboard_layer_errors_total{kind="closed",op="flush"} 1
switchboard_layer_errors_total{kind="error",op="flush"} 0
switchboard_layer_errors_total{kind="error",op="group_add"} 1
switchboard_layer_errors_total{kind="error",op="group_discard"} 0
switchboard_layer_errors_total{kind="error",op="group_send"} 0
switchboard_layer_errors_total{kind="error",op="new_channel"} 0
switchboard_layer_errors_total{kind="error",op="receive"} 0
switchboard_layer_errors_total{kind="error",op="send"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "switchboard_layer_errors_total"); err != nil {
		t.Fatal(err)
	}
}

// failing is a layer whose every operation fails with err.
type failing struct{ err error }

func (f failing) Send(context.Context, string, event.Event) error { return f.err }
func (f failing) Receive(context.Context, string) (event.Event, error) {
	return nil, f.err
}
func (f failing) NewChannel(context.Context, string) (string, error) { return "", f.err }
func (f failing) GroupAdd(context.Context, string, string) error     { return f.err }
func (f failing) GroupDiscard(context.Context, string, string) error { return f.err }
func (f failing) GroupSend(context.Context, string, event.Event) error {
	return f.err
}
func (f failing) Flush(context.Context) error { return f.err }
func (f failing) Close() error                { return nil }

func TestLayerCountsEveryOp(t *testing.T) {
	m, _ := newMetrics(t)
	// Wrapped the way backends wrap their errors: a cancellation inside a
	// backend error is still a cancellation.
	down := errors.New("redis: connection refused")
	for _, tc := range []struct {
		err  error
		kind string
	}{
		{down, "error"},
		{errors.Join(down, context.Canceled), "canceled"},
	} {
		l := m.Layer()(failing{tc.err})
		ctx := context.Background()
		l.Send(ctx, "c", event.Message{"type": "x"})
		l.Receive(ctx, "c")
		l.NewChannel(ctx, "p")
		l.GroupAdd(ctx, "g", "c")
		l.GroupDiscard(ctx, "g", "c")
		l.GroupSend(ctx, "g", event.Message{"type": "x"})
		l.Flush(ctx)
		for _, op := range []string{"send", "receive", "new_channel", "group_add", "group_discard", "group_send", "flush"} {
			if got := testutil.ToFloat64(m.LayerErrors(op, tc.kind)); got != 1 {
				t.Errorf("%s errors of kind %s = %v, want 1", op, tc.kind, got)
			}
		}
	}
}
