package layer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

// queuer is a layer that queues group sends: QueueGroupSend finds it
// below a middleware.
type queuer struct {
	layer.Layer
	queued []string
}

func (q *queuer) QueueGroupSend(_ context.Context, group string, _ event.Event, done func(error)) error {
	q.queued = append(q.queued, group)
	done(nil)
	return nil
}

type wrapped struct{ layer.Layer }

func (w wrapped) Unwrap() layer.Layer { return w.Layer }

// failing fails every group send with err.
type failing struct {
	layer.Layer
	err error
}

func (f failing) GroupSend(context.Context, string, event.Event) error { return f.err }

func TestQueueGroupSend(t *testing.T) {
	ctx := context.Background()
	mem, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	msg := event.Message{"type": "t.t"}

	q := &queuer{Layer: mem}
	if err := layer.QueueGroupSend(ctx, wrapped{q}, "g", msg, func(error) {}); err != nil || len(q.queued) != 1 {
		t.Errorf("through a middleware: %v, queued %v; want the backend's QueueGroupSend", err, q.queued)
	}

	down := errors.New("down")
	var got []error
	record := func(err error) { got = append(got, err) }
	if err := layer.QueueGroupSend(ctx, failing{mem, down}, "g", msg, record); err != nil || len(got) != 1 || !errors.Is(got[0], down) {
		t.Errorf("a failed send without a queue: returned %v, done got %v; want nil and the failure", err, got)
	}
	got = nil
	for _, refused := range []error{layer.ErrInvalidName, layer.ErrClosed, event.ErrNoType} {
		if err := layer.QueueGroupSend(ctx, failing{mem, refused}, "g", msg, record); !errors.Is(err, refused) {
			t.Errorf("refused with %v: returned %v", refused, err)
		}
	}
	if len(got) != 0 {
		t.Errorf("done called for sends refused at once: %v", got)
	}
}
