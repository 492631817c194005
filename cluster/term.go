package cluster

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// term is one membership of a Node in the cluster: from the first Attach
// to the first detach.
type term struct {
	n      *Node
	ctx    context.Context // ends when the Node leaves: no more balancing
	cancel context.CancelFunc
	done   chan struct{} // closed when the balancing loop returned

	ready     chan struct{}
	readyOnce sync.Once

	kick chan struct{}  // makes the loop balance at once
	bg   sync.WaitGroup // releases and losses under way

	// shared reads and acknowledges every partition of the term on one
	// Redis; nil on Redis Cluster, where each partition has a reader of
	// its own (see reader). Made with the first partition; guarded by mu.
	shared *reader

	mu      sync.Mutex
	parts   map[int]*partition // owned, including those being released; guarded by mu
	seq     int                // numbers the lease tokens of the term; guarded by mu
	rounds  int                // balancing rounds so far; guarded by mu
	leaving bool               // giving every partition up; guarded by mu
	changed chan struct{}      // closed and replaced when parts shrinks; guarded by mu
}

// dropLocked removes p from the owned partitions, if it is still there.
func (t *term) dropLocked(p *partition) {
	if t.parts[p.p] != p {
		return
	}
	delete(t.parts, p.p)
	close(t.changed)
	t.changed = make(chan struct{})
}

// join starts a membership.
func (n *Node) join() *term {
	ctx, cancel := context.WithCancel(context.Background())
	t := &term{n: n, ctx: ctx, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{}),
		kick: make(chan struct{}, 1), parts: map[int]*partition{}, changed: make(chan struct{})}
	go t.run()
	return t
}

func (t *term) owned() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Sorted(maps.Keys(t.parts))
}

// run balances every third of the lease until the term ends.
func (t *term) run() {
	defer close(t.done)
	every := t.n.cfg.Lease / 3
	for {
		t.balance(t.ctx)
		select {
		case <-t.ctx.Done():
			return
		case <-t.kick:
		case <-t.n.clock.After(every):
		}
	}
}

// balance announces the Node, renews its leases, gives up what the
// assignment gives others and takes what it gives this Node.
func (t *term) balance(ctx context.Context) {
	n := t.n
	now := n.clock.Now()
	members, err := t.heartbeat(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("cluster: cannot reach the members set; keeping the partitions held", "err", err)
		}
	}
	t.mu.Lock()
	held := slices.Collect(maps.Values(t.parts))
	t.mu.Unlock()
	var gained, lost, released []int
	renewed := t.renew(ctx, held)
	for _, p := range held {
		ok, known := renewed[p]
		if !known {
			continue
		}
		if !ok {
			lost = append(lost, p.p)
			t.lose(p, "its lease could not be renewed")
			continue
		}
		p.setValid(now.Add(n.cfg.Lease))
	}
	t.mu.Lock()
	t.rounds++
	first, leaving := t.rounds == 1, t.leaving
	t.mu.Unlock()
	// The first round only announces the Node: processes started together
	// then see each other before any takes a partition, rather than one
	// taking all and handing most over at once.
	if err == nil && !first {
		want := assign(members, n.id, n.cfg.Partitions)
		if leaving {
			want = nil
		}
		t.mu.Lock()
		for _, p := range t.parts {
			if !want[p.p] && !p.releasing {
				p.releasing = true
				released = append(released, p.p)
				t.bg.Go(func() { t.release(p) })
			}
		}
		var free []int
		for p := range want {
			if t.parts[p] == nil {
				free = append(free, p)
			}
		}
		t.mu.Unlock()
		if !leaving {
			gained = t.acquire(ctx, now, free)
		}
		if len(released) > 0 {
			slices.Sort(released)
			n.log.Info("cluster: giving partitions up", "node", n.id, "partitions", released, "members", len(members))
		}
		t.readyOnce.Do(func() { close(t.ready) })
	}
	if len(gained) > 0 {
		slices.Sort(gained)
		n.log.Info("cluster: partitions gained", "node", n.id, "partitions", gained, "owned", len(t.owned()))
	}
	if len(gained) > 0 || len(lost) > 0 || len(released) > 0 {
		n.count(func(c *Counters) { c.Rebalances++ })
	}
}

// heartbeat marks the Node live for a lease from now and returns the live
// members.
func (t *term) heartbeat(ctx context.Context, now time.Time) ([]string, error) {
	k := t.n.keys.members()
	var live *goredis.StringSliceCmd
	_, err := t.n.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZAdd(ctx, k, goredis.Z{Score: float64(now.Add(t.n.cfg.Lease).UnixMilli()), Member: t.n.id})
		p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(now.UnixMilli(), 10))
		live = p.ZRange(ctx, k, 0, -1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return live.Val(), nil
}

// renew extends the leases of held, and reports for each whether it
// did (true), lost it (false), or could not tell (absent: the renewal did
// not reach Redis; the lease runs on until its term ends).
func (t *term) renew(ctx context.Context, held []*partition) map[*partition]bool {
	out := make(map[*partition]bool, len(held))
	if len(held) == 0 {
		return out
	}
	cmds := make([]*goredis.Cmd, len(held))
	// Eval rather than EvalSha: a pipeline cannot fall back when Redis
	// does not know the script yet.
	_, _ = t.n.c.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, p := range held {
			cmds[i] = renewScript.Eval(ctx, pipe, []string{p.leaseKey}, p.token, ms(t.n.cfg.Lease))
		}
		return nil
	})
	now := t.n.clock.Now()
	for i, p := range held {
		v, err := cmds[i].Int()
		switch {
		case err == nil:
			out[p] = v == 1
		case p.expired(now):
			out[p] = false
		case ctx.Err() == nil:
			t.n.log.Warn("cluster: lease renewal failed", "partition", p.p, "err", err)
		}
	}
	return out
}

// acquire tries to take the leases of free, and starts serving those it
// took.
func (t *term) acquire(ctx context.Context, now time.Time, free []int) []int {
	if len(free) == 0 {
		return nil
	}
	t.mu.Lock()
	tokens := make([]string, len(free))
	for i := range free {
		t.seq++
		tokens[i] = t.n.id + ":" + strconv.Itoa(t.seq)
	}
	t.mu.Unlock()
	cmds := make([]*goredis.BoolCmd, len(free))
	_, _ = t.n.c.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, p := range free {
			cmds[i] = pipe.SetNX(ctx, t.n.keys.lease(p), tokens[i], t.n.cfg.Lease)
		}
		return nil
	})
	var gained []int
	for i, p := range free {
		if ok, err := cmds[i].Result(); err != nil || !ok {
			continue
		}
		gained = append(gained, p)
		t.mu.Lock()
		g, own := t.shared, false
		switch {
		case t.n.perSlot:
			g, own = newReader(t, ""), true
		case g == nil:
			g = newReader(t, t.n.keys.bell(t.n.id))
			t.shared = g
		}
		part := newPartition(t, g, own, p, tokens[i], now.Add(t.n.cfg.Lease))
		t.parts[p] = part
		t.mu.Unlock()
		part.start()
	}
	if len(gained) > 0 {
		t.n.count(func(c *Counters) {
			c.Gained += int64(len(gained))
			for _, p := range gained {
				t.n.taken[p]++
			}
		})
	}
	return gained
}

// lose stops serving p at once, without waiting for what it handed over:
// its lease is gone, so nothing it does would count. p stays among the
// owned partitions until its local scopes ended, so that this Node does
// not take the partition again, in a new term, while scopes of the old one
// still hold its entries.
func (t *term) lose(p *partition, why string) {
	t.mu.Lock()
	if t.parts[p.p] != p || p.ending {
		t.mu.Unlock()
		return
	}
	p.ending, p.releasing = true, true
	t.mu.Unlock()
	p.stop()
	p.moved()
	t.mu.Lock()
	t.dropLocked(p)
	t.mu.Unlock()
	t.n.count(func(c *Counters) { c.Lost++ })
	t.n.log.Warn("cluster: partition lost", "node", t.n.id, "partition", p.p, "why", why)
}

// release gives p up: it stops reading, waits until what it handed over
// was handled and acknowledged (at most DrainWait, while the balancing
// loop keeps renewing the lease, so that no other process starts on the
// partition meanwhile), then frees the lease.
func (t *term) release(p *partition) {
	ctx, cancel := t.n.within(t.ctx, DrainWait)
	defer cancel()
	t.releaseCtx(ctx, p)
}

// DrainWait bounds how long a process giving a partition up waits for the
// handlers of what it handed over, such as replies held back by a
// platform's rate limit. Past it the lease is left to expire.
const DrainWait = 30 * time.Second

// kickSoon makes the loop balance again at once.
func (t *term) kickSoon() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// leave ends the term: every partition is given up as release does,
// while the loop keeps renewing their leases, until ctx ends; then
// balancing stops, what is left is abandoned to expire, and the Node
// leaves the members.
func (t *term) leave(ctx context.Context) {
	t.mu.Lock()
	t.leaving = true
	held := len(t.parts)
	t.mu.Unlock()
	t.kickSoon()
	for {
		t.mu.Lock()
		n, changed := len(t.parts), t.changed
		t.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-changed:
			continue
		case <-ctx.Done():
		}
		break
	}
	t.abandon()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_, _ = t.n.c.Pipelined(rctx, func(pipe goredis.Pipeliner) error {
		pipe.ZRem(rctx, t.n.keys.members(), t.n.id)
		pipe.Del(rctx, t.n.keys.bell(t.n.id))
		return nil
	})
	if held > 0 {
		t.n.log.Info("cluster: left; partitions given up", "node", t.n.id, "partitions", held)
	}
}

// releaseCtx gives p up, waiting for what it handed over until ctx ends.
// If that is not enough, the lease is left to expire rather than freed,
// so that the next owner does not start while this one still handles.
func (t *term) releaseCtx(ctx context.Context, p *partition) {
	freed := p.drain(ctx)
	t.mu.Lock()
	mine := t.parts[p.p] == p && !p.ending
	p.ending = true
	t.mu.Unlock()
	if !mine {
		return // lost meanwhile
	}
	if freed {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		if err := releaseScript.Run(rctx, t.n.c, []string{p.leaseKey}, p.token).Err(); err != nil {
			t.n.log.Warn("cluster: lease release failed; it will expire", "partition", p.p, "err", err)
		}
		cancel()
	} else {
		t.n.log.Warn("cluster: partition still handling when giving it up; leaving its lease to expire",
			"partition", p.p)
	}
	p.moved()
	t.mu.Lock()
	t.dropLocked(p)
	t.mu.Unlock()
	t.n.count(func(c *Counters) { c.Released++ })
}

// abandon ends the term as a killed process would: no release, no
// acknowledgement, leases left to expire.
func (t *term) abandon() {
	t.cancel()
	<-t.done
	t.mu.Lock()
	held := slices.Collect(maps.Values(t.parts))
	t.parts = map[int]*partition{}
	close(t.changed)
	t.changed = make(chan struct{})
	shared := t.shared
	t.mu.Unlock()
	for _, p := range held {
		p.stop()
	}
	t.bg.Wait()
	if shared != nil {
		shared.stop()
	}
}
