package cluster

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// pipe sends the commands of a Node's concurrent callers (appends, the
// partitions' fetches and acknowledgements) to Redis together: whatever
// gathered while one pipeline was under way goes in the next. A lone call
// goes at once, alone; under load a round trip carries many, which spares
// Redis and the process a read and a write per command. No timer is
// involved: a call waits for at most the round trip under way and its
// own.
//
// Commands that block (XREAD BLOCK) must not go through a pipe: they would
// hold up every call behind them.
type pipe struct {
	c goredis.UniversalClient

	mu      sync.Mutex
	queue   []*call // waiting for the next pipeline; guarded by mu
	running bool    // a goroutine sends pipelines; guarded by mu
}

// call is one caller's commands in a pipeline.
type call struct {
	ctx context.Context
	// add queues the call's commands, keeping them where the caller reads
	// them once done is closed. Scripts go by EvalSha when sha is true,
	// else by Eval: add is called again with false for a call one of
	// whose scripts Redis did not know (a restarted Redis, a new master).
	add  func(p goredis.Pipeliner, sha bool)
	done chan struct{}
}

// maxPipeline bounds the calls one pipeline carries, so that a backlog
// is sent in steps rather than as one reply too large to hold.
const maxPipeline = 512

// do queues add's commands for the next pipeline and waits until they
// ran, or until ctx ends: then the commands may still run, and do
// returns ctx's error. The caller reads its commands' results once do
// returned nil; each command holds its own error.
func (q *pipe) do(ctx context.Context, add func(p goredis.Pipeliner, sha bool)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &call{ctx: ctx, add: add, done: make(chan struct{})}
	q.mu.Lock()
	q.queue = append(q.queue, c)
	if !q.running {
		q.running = true
		go q.run()
	}
	q.mu.Unlock()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run sends pipelines until the queue is empty.
func (q *pipe) run() {
	for {
		q.mu.Lock()
		calls := q.queue
		if len(calls) > maxPipeline {
			calls = calls[:maxPipeline:maxPipeline]
			q.queue = q.queue[maxPipeline:]
		} else {
			q.queue = nil
		}
		if len(calls) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		q.send(calls)
	}
}

// send runs calls in one pipeline, and those that met a script Redis did
// not know again in a second one, by Eval; then tells every call it is
// done. Calls whose caller gave up are left out; the pipeline itself ends
// early only once every caller in it gave up.
func (q *pipe) send(calls []*call) {
	live := calls[:0:0]
	for _, c := range calls {
		if c.ctx.Err() != nil {
			close(c.done) // its caller returned already
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(live[0].ctx))
	defer cancel()
	left := len(live)
	var mu sync.Mutex
	for _, c := range live {
		stop := context.AfterFunc(c.ctx, func() {
			mu.Lock()
			left--
			if left == 0 {
				cancel()
			}
			mu.Unlock()
		})
		defer stop()
	}
	var again []*call
	p := q.c.Pipeline()
	ends := make([]int, len(live))
	for i, c := range live {
		c.add(p, true)
		ends[i] = p.Len()
	}
	cmds, _ := p.Exec(ctx)
	start := 0
	for i, c := range live {
		for _, cmd := range cmds[start:min(ends[i], len(cmds))] {
			if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
				again = append(again, c)
				break
			}
		}
		start = ends[i]
	}
	if len(again) > 0 {
		p := q.c.Pipeline()
		for _, c := range again {
			c.add(p, false)
		}
		_, _ = p.Exec(ctx)
	}
	for _, c := range live {
		close(c.done)
	}
}
