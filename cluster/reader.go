package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// reader waits for, reads and acknowledges the entries of a set of
// partitions a Node owns, together: one goroutine waits for new entries on
// all of their streams at once (one XREAD) and reads those that have some
// in one stepScript, which also carries their acknowledgements; another
// (the acker) sends what the reads do not carry. On one Redis (or
// Sentinel) one reader serves every partition of a term, so that with many
// quiet partitions the fixed costs of a wait and a read are paid once
// rather than per partition; on Redis Cluster, where a command's keys must
// share a slot, each partition has a reader of its own.
//
// Each partition hands its batches over on its own goroutine
// (partition.run): a conversation whose inbox is full holds up its own
// partition, not the reader's others. The reader reads a partition again
// only once it handed its last batch over, so a conversation's entries
// are handed over in order and a held-up partition's wait in Redis, not
// in memory.
type reader struct {
	t      *term
	ctx    context.Context // ends when the reader's goroutines must stop
	cancel context.CancelFunc
	// bell is the key of a stream the reader also waits on, which
	// wake adds to when the reader must look again while it waits in
	// XREAD: a partition joined, or one it held back is free to be read.
	// "" for the reader of one partition, which never needs it.
	bell   string
	bellID string // the bell's last entry the reader saw; reader only

	kick    chan struct{} // wakes the reader when it does not wait in XREAD
	ackWake chan struct{} // tells the acker there are acknowledgements
	done    sync.WaitGroup

	mu      sync.Mutex
	members map[*partition]bool // guarded by mu
	waiting bool                // the reader waits in XREAD; guarded by mu
}

// member is what a reader keeps of one of its partitions; its fields are
// guarded by the reader's mu.
type member struct {
	after string // the last id read: the reader waits for entries after it
	want  bool   // has, or may have, entries to read
	busy  bool   // handing a batch over: not to be read until it is done
	calls int    // calls under way that took its acknowledgements
	quiet chan struct{}
}

func newReader(t *term, bell string) *reader {
	ctx, cancel := context.WithCancel(t.ctx)
	g := &reader{t: t, ctx: ctx, cancel: cancel, bell: bell, bellID: "0-0",
		kick: make(chan struct{}, 1), ackWake: make(chan struct{}, 1), members: map[*partition]bool{}}
	g.done.Add(2)
	go g.readLoop()
	go g.ackLoop()
	return g
}

// stop ends the reader's goroutines and waits for them.
func (g *reader) stop() {
	g.cancel()
	g.done.Wait()
}

// join makes the reader read p from now on: at once, and then whenever its
// stream has entries after the last one read.
func (g *reader) join(p *partition) {
	g.mu.Lock()
	p.m = member{want: true}
	g.members[p] = true
	g.mu.Unlock()
	g.wake()
}

// leave stops the reader reading p and acknowledging for it. A read under
// way may still take entries of p: they stay pending, for p's next term.
func (g *reader) leave(p *partition) {
	g.mu.Lock()
	delete(g.members, p)
	g.mu.Unlock()
}

// handed tells the reader that p handed its last batch over.
func (g *reader) handed(p *partition) {
	g.mu.Lock()
	p.m.busy = false
	again := p.m.want && g.members[p]
	g.mu.Unlock()
	if again {
		g.wake()
	}
}

// wake makes the reader look at its partitions again: through the bell
// while it waits in XREAD, else at once.
func (g *reader) wake() {
	g.mu.Lock()
	ring := g.waiting && g.bell != ""
	g.mu.Unlock()
	if !ring {
		select {
		case g.kick <- struct{}{}:
		default:
		}
		return
	}
	n := g.t.n
	err := n.pipe.do(g.ctx, func(pipe goredis.Pipeliner, _ bool) {
		pipe.XAdd(g.ctx, &goredis.XAddArgs{Stream: g.bell, MaxLen: 1, Values: []any{"w", "1"}})
		pipe.PExpire(g.ctx, g.bell, n.cfg.Lease)
	})
	if err != nil && g.ctx.Err() == nil {
		// The reader looks again at the end of its wait at the latest.
		n.log.Warn("cluster: cannot wake the intake's reader", "err", err)
	}
}

// readLoop reads the partitions until the reader stops: those
// with entries to read, else it waits, in XREAD, for entries on the
// streams of the others.
func (g *reader) readLoop() {
	defer g.done.Done()
	for g.ctx.Err() == nil {
		g.mu.Lock()
		var read, wait []*partition
		for p := range g.members {
			switch {
			case !p.m.want:
				wait = append(wait, p)
			case !p.m.busy:
				read = append(read, p)
			}
		}
		g.waiting = len(read) == 0 && len(wait) > 0
		g.mu.Unlock()
		switch {
		case len(read) > 0:
			g.read(read)
		case len(wait) > 0:
			g.await(wait)
		default:
			select {
			case <-g.kick:
			case <-g.ctx.Done():
			}
		}
	}
}

// await waits, at most n.block, for new entries on the streams of wait,
// and marks those that have some as wanting a read.
func (g *reader) await(wait []*partition) {
	n := g.t.n
	streams := make([]string, 0, 2*len(wait)+2)
	for _, p := range wait {
		streams = append(streams, p.stream)
	}
	if g.bell != "" {
		streams = append(streams, g.bell)
	}
	g.mu.Lock()
	for _, p := range wait {
		streams = append(streams, p.m.after)
	}
	g.mu.Unlock()
	if g.bell != "" {
		streams = append(streams, g.bellID)
	}
	got, err := n.c.XRead(g.ctx, &goredis.XReadArgs{Streams: streams, Count: 1, Block: n.block}).Result()
	g.mu.Lock()
	g.waiting = false
	for _, s := range got {
		if s.Stream == g.bell {
			if len(s.Messages) > 0 {
				g.bellID = s.Messages[len(s.Messages)-1].ID
			}
			continue
		}
		for _, p := range wait {
			if p.stream == s.Stream {
				p.m.want = true
			}
		}
	}
	g.mu.Unlock()
	if err != nil && !errors.Is(err, goredis.Nil) {
		g.pause("wait", err)
	}
}

// pause waits a moment after a failed call.
func (g *reader) pause(op string, err error) {
	if g.ctx.Err() != nil {
		return
	}
	g.t.n.log.Warn("cluster: intake "+op+" failed; retrying", "err", err)
	select {
	case <-g.ctx.Done():
	case <-time.After(g.t.n.block): // a retry's pause, not lease timing
	}
}

// read reads new entries of parts, carrying the acknowledgements of every
// member, and hands each partition its batch.
func (g *reader) read(parts []*partition) {
	n := g.t.n
	if n.beforeRead != nil {
		for _, p := range parts {
			n.beforeRead(p.p)
		}
	}
	now := n.clock.Now()
	steps := make([]step, 0, len(parts))
	g.mu.Lock()
	for _, p := range parts {
		if !g.members[p] {
			continue
		}
		if p.expired(now) {
			// A pause may have outlasted the lease unseen: take nothing.
			delete(g.members, p)
			g.t.bg.Go(func() { g.t.lose(p, "its lease's term ended before it was renewed") })
			continue
		}
		steps = append(steps, step{p: p, read: true})
	}
	for p := range g.members {
		if !slices.ContainsFunc(steps, func(s step) bool { return s.p == p }) {
			steps = append(steps, step{p: p}) // its acknowledgements ride along
		}
	}
	g.mu.Unlock()
	steps = g.takeAcks(steps, false)
	if len(steps) == 0 {
		return
	}
	res, err := g.run(g.ctx, steps)
	g.settle(steps, res, err)
	g.loseFenced(steps, res)
	if err != nil {
		g.pause("read", err)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, s := range steps {
		if !s.read || !g.members[s.p] || res[i].fenced {
			continue
		}
		p, r := s.p, res[i]
		switch {
		case len(r.msgs) > 0:
			p.m.after = r.msgs[len(r.msgs)-1].ID
			p.m.want = len(r.msgs) == n.cfg.Batch // there may be more at once
			select {
			case p.batches <- r.batch: // room: p handed its last batch over
				p.m.busy = true
			default: // cannot happen; the entries stay pending, for p's next term
			}
		case r.tail != "":
			p.m.after, p.m.want = r.tail, false
		default: // cannot happen: a read with no entry returns the tail
			p.m.want = false
		}
	}
}

// ackLoop acknowledges handled entries, in batches, until the reader
// stops.
func (g *reader) ackLoop() {
	defer g.done.Done()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.ackWake:
		}
		// Linger a moment, so that one script acknowledges what the
		// reader's conversations handle meanwhile.
		select {
		case <-g.ctx.Done():
			return
		case <-time.After(ackLinger): // batching, not lease timing
		}
		g.mu.Lock()
		steps := make([]step, 0, len(g.members))
		for p := range g.members {
			steps = append(steps, step{p: p})
		}
		g.mu.Unlock()
		steps = g.takeAcks(steps, false)
		if len(steps) == 0 {
			continue
		}
		res, err := g.run(g.ctx, steps)
		g.settle(steps, res, err)
		g.loseFenced(steps, res)
		if err != nil && g.ctx.Err() == nil {
			g.t.n.log.Warn("cluster: acknowledgement failed; retrying", "err", err)
			go func() {
				select {
				case <-time.After(g.t.n.block): // a retry's pause, not lease timing
				case <-g.ctx.Done():
				}
				g.acked()
			}()
		}
	}
}

// acked tells the acker there are acknowledgements to send.
func (g *reader) acked() {
	select {
	case g.ackWake <- struct{}{}:
	default:
	}
}

// takeAcks takes the acknowledgements and trims due of steps' partitions
// (every one when final), marking each step that took some as a call under
// way for its partition; it drops the steps with nothing to do.
func (g *reader) takeAcks(steps []step, final bool) []step {
	out := steps[:0]
	for _, s := range steps {
		s.acks, s.keep = s.p.takeAcks(final)
		if !s.read && len(s.acks) == 0 && s.keep == "" {
			continue
		}
		out = append(out, s)
	}
	g.mu.Lock()
	for _, s := range out {
		s.p.m.calls++
	}
	g.mu.Unlock()
	return out
}

// settle ends the calls of steps: the acknowledgements of a call that
// failed go back to their partitions.
func (g *reader) settle(steps []step, res []stepResult, err error) {
	for i, s := range steps {
		switch {
		case err != nil:
			s.p.giveBack(s.acks)
		case res[i].fenced:
		default:
			s.p.trimmedTo(s.keep)
			if res[i].acked > 0 {
				g.t.n.count(func(c *Counters) { c.Handled += res[i].acked })
			}
		}
	}
	g.mu.Lock()
	for _, s := range steps {
		s.p.m.calls--
		if s.p.m.calls == 0 && s.p.m.quiet != nil {
			close(s.p.m.quiet)
			s.p.m.quiet = nil
		}
	}
	g.mu.Unlock()
}

// loseFenced gives up the partitions whose step was fenced out.
func (g *reader) loseFenced(steps []step, res []stepResult) {
	for i, s := range steps {
		if i < len(res) && res[i].fenced {
			g.mu.Lock()
			delete(g.members, s.p)
			g.mu.Unlock()
			g.t.bg.Go(func() { g.t.lose(s.p, "another process holds its lease: a read or acknowledgement was fenced out") })
		}
	}
}

// quiet waits until no call under way holds acknowledgements of p, or
// until ctx ends.
func (g *reader) quiet(ctx context.Context, p *partition) error {
	g.mu.Lock()
	if p.m.calls == 0 {
		g.mu.Unlock()
		return nil
	}
	if p.m.quiet == nil {
		p.m.quiet = make(chan struct{})
	}
	q := p.m.quiet
	g.mu.Unlock()
	select {
	case <-q:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// step is one partition's part of a stepScript call.
type step struct {
	p    *partition
	read bool     // read new entries
	acks []string // ids to acknowledge
	keep string   // the lowest id to keep, or "" for no trim
}

// stepResult is a partition's part of stepScript's reply.
type stepResult struct {
	batch
	fenced bool
	tail   string
}

// run sends steps in one stepScript call.
func (g *reader) run(ctx context.Context, steps []step) ([]stepResult, error) {
	n := g.t.n
	keys := make([]string, 0, 2*len(steps))
	args := make([]any, 0, 6+6*len(steps))
	args = append(args, group, n.id, n.cfg.Batch, ms(n.cfg.DedupeTTL), fieldID, fieldAdapter)
	for _, s := range steps {
		keys = append(keys, s.p.leaseKey, s.p.stream)
		read := ""
		if s.read {
			read = "1"
		}
		args = append(args, s.p.token, n.keys.seenPrefix(s.p.p), read, s.keep, len(s.acks))
		for _, id := range s.acks {
			args = append(args, id)
		}
	}
	var cmd *goredis.Cmd
	err := n.pipe.do(ctx, func(pipe goredis.Pipeliner, sha bool) {
		if sha {
			cmd = stepScript.EvalSha(ctx, pipe, keys, args...)
		} else {
			cmd = stepScript.Eval(ctx, pipe, keys, args...)
		}
	})
	var v any
	if err == nil {
		v, err = cmd.Result()
	}
	if err != nil {
		return nil, err
	}
	return parseSteps(v, len(steps))
}

// parseSteps reads stepScript's reply for n partitions.
func parseSteps(v any, n int) ([]stepResult, error) {
	r, ok := v.([]any)
	if !ok || len(r) != n {
		return nil, fmt.Errorf("cluster: unexpected step reply %T of %d", v, len(r))
	}
	out := make([]stepResult, n)
	for i, x := range r {
		if _, ok := x.(int64); ok {
			out[i].fenced = true
			continue
		}
		part, ok := x.([]any)
		if !ok || len(part) != 4 {
			return nil, fmt.Errorf("cluster: unexpected step reply for a partition: %v", x)
		}
		out[i].acked, _ = part[0].(int64)
		entries, _ := part[1].([]any)
		flags, _ := part[2].([]any)
		msgs, dup, err := parseEntries(entries, flags)
		if err != nil {
			return nil, err
		}
		out[i].msgs, out[i].dup = msgs, dup
		out[i].tail, _ = part[3].(string)
	}
	return out, nil
}
