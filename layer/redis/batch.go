package redis

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group sends on a single server are batched. Each is one script call
// however large the group, but at thousands of small group sends a second,
// as in a busy room, what a call costs besides its commands (a round trip,
// a read and a write on each side, the script's setup in Redis) was most
// of Redis' time, and a consumer waits for its group send before it reads
// its next event. So the group sends that a process's callers make while
// another batch is on its way wait for it together and then go as one
// call of groupSendScript, which also reads a group, counts a key and
// sets its time to live once per batch rather than once per send. A lone
// send goes at once, in a batch of its own: batching costs nothing when
// there is nothing to batch.
//
// One batch is on its way at a time, so batches reach Redis in the order
// they were made, and a caller's sends, queued (QueueGroupSend) or not,
// are made in the order it made them.

// Bounds of the group sends waiting for a batch, and of one batch.
const (
	// maxQueuedSends bounds the sends QueueGroupSend has queued and
	// that are not made yet; beyond it, QueueGroupSend waits.
	maxQueuedSends = 10_000
	// maxBatchSends and maxBatchBytes bound one script call, which holds
	// Redis for its duration; a batch holds at least one send whatever
	// its size.
	maxBatchSends = 256
	maxBatchBytes = 1 << 20
)

// groupBatch is the group sends waiting for a batch.
type groupBatch struct {
	mu       sync.Mutex
	pending  []*groupReq
	flushing bool          // a goroutine runs flushGroups
	room     chan struct{} // a token per queued send not yet made; see maxQueuedSends
}

// groupReq is one group send waiting in a batch.
type groupReq struct {
	key      string // the group's key
	score    string // when it was sent
	msg      []byte // random bytes, map header, pairs and the routing field's name
	all      bool
	deadline time.Time    // the caller's, if any
	state    atomic.Int32 // reqQueued, then reqTaken or reqAbandoned
	// A caller that waits gets the result on done; a queued send's is
	// handed to queued, with its group.
	done   chan groupResult
	queued func(error)
	group  string
}

// groupResult is what a batch answers for one send.
type groupResult struct {
	members, skipped int
	err              error
}

const (
	reqQueued = iota
	reqTaken
	reqAbandoned
)

// groupSendScripted is a group send on a single server, made in the next
// batch. It returns the member count and how many members it skipped
// (all: would have). When ctx ends before the batch has gone, the send is
// not made; after, it may still arrive.
func (l *Layer) groupSendScripted(ctx context.Context, group string, e encoded, all bool) (members, skipped int, err error) {
	r := l.newGroupReq(group, e)
	r.all, r.done = all, make(chan groupResult, 1)
	r.deadline, _ = ctx.Deadline()
	if !l.enqueue(r) {
		return 0, 0, ErrClosed
	}
	select {
	case res := <-r.done:
		return res.members, res.skipped, res.err
	case <-ctx.Done():
		// A send still queued is taken out of its batch; one that has
		// gone may have run.
		r.state.CompareAndSwap(reqQueued, reqAbandoned)
		return 0, 0, ctx.Err()
	}
}

// queueGroupSend queues a group send for the next batch, waiting while
// ctx allows for room in the queue.
func (l *Layer) queueGroupSend(ctx context.Context, group string, e encoded, done func(error)) error {
	select {
	case l.batch.room <- struct{}{}:
	case <-ctx.Done():
		return failCtx(ctx, "queue send to group", group, fmt.Errorf("%d sends queued: %w", maxQueuedSends, ctx.Err()))
	}
	r := l.newGroupReq(group, e)
	r.queued, r.group = done, group
	if !l.enqueue(r) {
		<-l.batch.room
		return ErrClosed
	}
	return nil
}

func (l *Layer) newGroupReq(group string, e encoded) *groupReq {
	msg := make([]byte, randomLen, randomLen+5+len(e.body)+len(channelField)+1)
	putRandom(msg)
	msg = appendStr(append(appendMapHeader(msg, e.n+1), e.body...), channelField)
	return &groupReq{key: l.keys.group(group), score: score(l.clock.now()), msg: msg}
}

// enqueue puts r in the next batch, starting a flush if none runs. It
// reports false, with r not queued, when the layer is closing.
func (l *Layer) enqueue(r *groupReq) bool {
	b := &l.batch
	b.mu.Lock()
	b.pending = append(b.pending, r)
	start := !b.flushing
	b.flushing = true
	b.mu.Unlock()
	if !start {
		return true
	}
	if l.start() {
		go l.flushGroups()
		return true
	}
	// Close has begun, and no flush runs: nothing queued is made, r
	// included, and those who queued the rest meanwhile are told.
	b.mu.Lock()
	b.flushing = false
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, p := range pending {
		if p != r && p.state.CompareAndSwap(reqQueued, reqAbandoned) {
			l.answer(context.Background(), p, groupResult{err: ErrClosed})
		}
	}
	return false
}

// answer hands r its result: to the caller waiting for it, or, for a
// queued send, to its done after accounting for it.
func (l *Layer) answer(ctx context.Context, r *groupReq, res groupResult) {
	if r.queued == nil {
		r.done <- res
		return
	}
	r.queued(l.groupSent(ctx, r.group, false, res.members, res.skipped, res.err))
	<-l.batch.room
}

// flushGroups sends batches until none is waiting.
func (l *Layer) flushGroups() {
	defer l.wg.Done()
	b := &l.batch
	var batch []*groupReq
	for {
		batch = batch[:0]
		size := 0
		b.mu.Lock()
		n := 0
		for _, r := range b.pending {
			if len(batch) > 0 && (len(batch) == maxBatchSends || size+len(r.msg) > maxBatchBytes) {
				break
			}
			n++
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				batch = append(batch, r)
				size += len(r.msg)
			}
		}
		clear(b.pending[:n])
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil // and its backing array, grown by a burst
		}
		if len(batch) == 0 {
			b.flushing = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		l.sendBatch(batch)
	}
}

// sendBatch makes the group sends of batch in one script call and hands
// each its result.
func (l *Layer) sendBatch(batch []*groupReq) {
	// The call lasts as long as the longest wait of the senders, or, if
	// one of them did not bound its wait, until the client's timeout.
	ctx := context.Background()
	var last time.Time
	for _, r := range batch {
		if r.deadline.IsZero() {
			last = time.Time{}
			break
		}
		if r.deadline.After(last) {
			last = r.deadline
		}
	}
	if !last.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, last)
		defer cancel()
	}
	now := l.clock.now()
	keys := make([]string, len(batch))
	args := make([]any, 0, 7+len(l.capArgs)+3*len(batch))
	args = append(args, score(now-l.expiryUs), score(now-l.groupExpiryUs), l.ttl, l.cfg.Prefix,
		l.capacity, localKeyScale, len(l.capArgs)/2)
	args = append(args, l.capArgs...)
	for i, r := range batch {
		keys[i] = r.key
		flag := "0"
		if r.all {
			flag = "1"
		}
		args = append(args, r.score, r.msg, flag)
	}
	out, err := groupSendScript.run(ctx, l.shards[0].cmd, keys, args...).Int64Slice()
	if err == nil && len(out) != 4*len(batch) {
		err = fmt.Errorf("redis: group send script answered %d values for %d sends", len(out), len(batch))
	}
	for i, r := range batch {
		res := groupResult{err: err}
		if err == nil {
			res.members, res.skipped = int(out[4*i]), int(out[4*i+2])
		}
		l.answer(ctx, r, res)
	}
}
