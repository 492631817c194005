package adapters

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

const (
	// pushQueue bounds the pushes a Host holds in memory, taken from its
	// push channel but not yet sent. Past it the Host stops receiving, so
	// the rest wait in the layer, where another process running the
	// adapter can take them.
	pushQueue = 256
	// mergeBytes bounds a message made of merged chat.say pushes: under
	// the smallest message limit of the built-in platforms (Discord's
	// 2,000 characters).
	mergeBytes = 1900
)

// pushes sends what arrives on a Host's push channel. A chat.say that
// names its conversation (To) waits in that conversation's queue, which
// has a goroutine of its own while it holds anything: one conversation
// held back by its platform's rate limit (a Telegram group's 20 messages a
// minute) holds back no other. chat.say pushes that queue up in one
// conversation meanwhile are said as one message, their texts joined by
// newlines, up to mergeBytes: a burst reaches a slow conversation in
// minutes rather than hours, at the platform's pace. Every other event
// goes through one queue, in the order received.
type pushes struct {
	h *Host
	p Pusher

	mu     sync.Mutex
	queues map[string]*queue // by conversation; "" for events that name none we know. Present while its sender runs.
	queued int
	room   chan struct{} // closed and replaced whenever queued falls
	sends  sync.WaitGroup
}

func newPushes(h *Host, p Pusher) *pushes {
	return &pushes{h: h, p: p, queues: map[string]*queue{}, room: make(chan struct{})}
}

// queue is one conversation's pushes not yet taken by its sender.
type queue struct{ evs []event.Event }

// run receives until ctx ends, then waits for the queues to be sent,
// until grace ends; what grace cuts short is logged with its count.
func (q *pushes) run(ctx, grace context.Context) {
	ch := PushChannel(q.h.Name())
	_ = layer.Consume(ctx, q.h.opts.layer, ch, func(ev event.Event) error {
		q.add(ctx, grace, ev)
		return nil
	}, func(err error, retryIn time.Duration) {
		q.h.opts.log.Warn("push: receive failed; retrying", "channel", ch, "err", err, "retry_in", retryIn)
	})
	q.sends.Wait()
}

// add queues ev, waiting while the queues are full. Once ctx ended it
// queues ev anyway: it has left the layer, and is sent within the grace
// period or logged as not sent.
func (q *pushes) add(ctx, grace context.Context, ev event.Event) {
	q.mu.Lock()
	for q.queued >= pushQueue && ctx.Err() == nil {
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
		}
		q.mu.Lock()
	}
	key := conversationOf(ev)
	qq, running := q.queues[key]
	if !running {
		qq = &queue{}
		q.queues[key] = qq
	}
	qq.evs = append(qq.evs, ev)
	q.queued++
	q.mu.Unlock()
	start := !running
	if start {
		q.sends.Go(func() { q.send(grace, key) })
	}
}

// send pushes key's queue until it is empty.
func (q *pushes) send(grace context.Context, key string) {
	for {
		q.mu.Lock()
		qq := q.queues[key]
		batch := qq.evs
		if len(batch) == 0 {
			delete(q.queues, key)
			q.mu.Unlock()
			return
		}
		qq.evs = nil
		q.mu.Unlock()

		msgs := merge(batch)
		for i, ev := range msgs {
			if grace.Err() != nil {
				q.h.opts.log.Error("push: not sent: the adapter stopped", "adapter", q.h.Name(),
					"conversation", key, "messages", len(msgs)-i)
				break
			}
			if err := q.p.Push(grace, ev); err != nil {
				q.h.opts.log.Error("push failed", "adapter", q.h.Name(), "event", ev.Type(), "err", err)
			}
		}
		// The batch stayed in q.queued while it was sent: the bound
		// counts what is in memory, not only what waits.
		q.mu.Lock()
		q.queued -= len(batch)
		close(q.room)
		q.room = make(chan struct{})
		q.mu.Unlock()
	}
}

// conversationOf is the queue of ev: the conversation a chat.say names,
// or "".
func conversationOf(ev event.Event) string {
	say, _ := asSay(ev)
	return say.To
}

// merge joins runs of chat.say with one To into messages of at most
// mergeBytes (a single longer text stays as it is); other events pass
// unchanged, in order.
func merge(batch []event.Event) []event.Event {
	out := make([]event.Event, 0, len(batch))
	var cur *event.Say
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for _, ev := range batch {
		say, ok := asSay(ev)
		switch {
		case !ok:
			flush()
			out = append(out, ev)
		case cur != nil && cur.To == say.To && len(cur.Text)+1+len(say.Text) <= mergeBytes:
			cur.Text = strings.Join([]string{cur.Text, say.Text}, "\n")
		default:
			flush()
			cur = &say
		}
	}
	flush()
	return out
}

// asSay returns ev as a chat.say that names its conversation.
func asSay(ev event.Event) (event.Say, bool) {
	say, ok, err := event.AsSay(ev)
	return say, ok && err == nil && say.To != ""
}
