package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// partition is one partition a Node owns, for one lease term: a goroutine
// that claims what a previous owner left pending and hands the batches its
// reader reads over to the Hosts' scope managers; its reader acknowledges
// them, in batches, once handled.
type partition struct {
	t                *term
	g                *reader // reads and acknowledges it
	own              bool    // g is the partition's own, to stop with it
	p                int
	token            string
	stream, leaseKey string
	releasing        bool   // being given up; guarded by t.mu
	ending           bool   // being given up or lost, past the point of return; guarded by t.mu
	m                member // what g keeps of it; guarded by g.mu

	read     context.Context // ends when reading must stop
	stopRead context.CancelFunc
	readDone chan struct{}
	batches  chan batch // what g read, for the partition's goroutine to hand over

	mu        sync.Mutex
	valid     time.Time       // when the lease's term ends, as last renewed
	order     []string        // ids handed over and not yet trimmed past, in stream order
	done      map[string]bool // ids of order that were handled
	acks      []string        // handled ids not yet acknowledged
	busy      int             // entries handed over whose handler has not returned
	idle      chan struct{}   // closed when busy drops to 0; nil unless someone waits
	lastRead  string          // the last id handed over
	trimmed   string          // the lowest id kept by the last trim
	untrimmed int             // entries handled since the last trim
	scopes    map[string]map[string]*scope.Scope
}

func newPartition(t *term, g *reader, own bool, p int, token string, valid time.Time) *partition {
	read, stopRead := context.WithCancel(t.ctx)
	return &partition{t: t, g: g, own: own, p: p, token: token, stream: t.n.keys.stream(p), leaseKey: t.n.keys.lease(p),
		read: read, stopRead: stopRead, readDone: make(chan struct{}), batches: make(chan batch, 1),
		valid: valid, done: map[string]bool{}}
}

func (p *partition) start() {
	p.t.n.owners.tell(p.p, true)
	go p.run()
}

func (p *partition) setValid(t time.Time) {
	p.mu.Lock()
	p.valid = t
	p.mu.Unlock()
}

func (p *partition) validUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.valid
}

func (p *partition) expired(now time.Time) bool { return !now.Before(p.validUntil()) }

// stop ends reading and acknowledging at once.
func (p *partition) stop() {
	p.t.n.owners.tell(p.p, false)
	p.stopRead()
	p.g.leave(p)
	<-p.readDone
	if p.own {
		p.g.stop()
	}
}

// drain stops reading, waits until ctx ends for what was handed over to be
// handled, acknowledges it, and reports whether all of it was.
func (p *partition) drain(ctx context.Context) bool {
	p.t.n.owners.tell(p.p, false)
	p.stopRead()
	p.g.leave(p)
	<-p.readDone
	if p.own {
		defer p.g.stop()
	}
	p.mu.Lock()
	for p.busy > 0 {
		if p.idle == nil {
			p.idle = make(chan struct{})
		}
		idle := p.idle
		p.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return false
		}
		p.mu.Lock()
	}
	p.mu.Unlock()
	// What a call under way took goes back to the partition if the call
	// fails: wait for it, so that the last flush sends it.
	if p.g.quiet(ctx, p) != nil {
		return false
	}
	return p.flush(ctx) == nil
}

// moved ends the local scopes of the partition's conversations.
func (p *partition) moved() {
	n := p.t.n
	n.mu.Lock()
	sinks := make(map[string]adapters.Sink, len(n.sinks))
	for name, s := range n.sinks {
		sinks[name] = s
	}
	n.mu.Unlock()
	for name, s := range sinks {
		s.Moved(func(key string) bool { return partitionOf(name, key, n.cfg.Partitions) == p.p })
	}
}

// run hands the partition's entries over: first those a previous owner
// left pending, which it claims itself, then the batches its reader reads,
// until reading stops.
func (p *partition) run() {
	defer close(p.readDone)
	n := p.t.n
	ctx := p.read
	err := n.c.XGroupCreateMkStream(ctx, p.stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		if ctx.Err() == nil {
			n.log.Error("cluster: cannot create the partition's group", "partition", p.p, "err", err)
			p.t.bg.Go(func() { p.t.lose(p, "its stream cannot be read") })
		}
		return
	}
	for cursor := "0-0"; ; {
		b, ok := p.claim(ctx, cursor)
		if !ok {
			return
		}
		if len(b.msgs) > 0 {
			n.count(func(c *Counters) { c.Claimed += int64(len(b.msgs)); n.claimed[p.p] += int64(len(b.msgs)) })
		}
		if len(b.deleted) > 0 {
			// Only a trim past a pending entry makes these, and trims
			// never pass one: say so loudly if it happens anyway.
			n.log.Error("cluster: pending entries were no longer in the stream; they are lost",
				"partition", p.p, "ids", b.deleted)
			n.count(func(c *Counters) { c.Dropped += int64(len(b.deleted)) })
		}
		if !p.serve(ctx, b) {
			return
		}
		if b.next == "0-0" || b.next == "" {
			break
		}
		cursor = b.next
	}
	p.g.join(p)
	for {
		select {
		case b := <-p.batches:
			if !p.serve(ctx, b) {
				return
			}
			p.g.handed(p)
		case <-ctx.Done():
			return
		}
	}
}

// batch is what one read or claim took.
type batch struct {
	msgs    []rawEntry
	dup     map[string]bool // ids of msgs whose platform id another entry carried
	next    string          // claimScript's next
	deleted []string        // claimed ids no longer in the stream
	acked   int64           // entries the call acknowledged
}

// claim takes a batch of the entries pending from cursor on, retrying what
// fails, and reports whether reading goes on: it does not once the lease
// is gone, by Redis' word or by the Node's clock.
func (p *partition) claim(ctx context.Context, cursor string) (batch, bool) {
	n := p.t.n
	for {
		if p.expired(n.clock.Now()) {
			// A pause may have outlasted the lease unseen: take nothing.
			p.t.bg.Go(func() { p.t.lose(p, "its lease's term ended before it was renewed") })
			return batch{}, false
		}
		p.mu.Lock()
		acks := p.acks
		p.acks = nil
		p.mu.Unlock()
		args := make([]any, 0, 9+len(acks))
		args = append(args, p.token, group, n.id, n.cfg.Batch, ms(n.cfg.DedupeTTL), cursor,
			n.keys.seenPrefix(p.p), fieldID, fieldAdapter)
		for _, id := range acks {
			args = append(args, id)
		}
		keys := []string{p.leaseKey, p.stream}
		var cmd *goredis.Cmd
		err := n.pipe.do(ctx, func(pipe goredis.Pipeliner, sha bool) {
			if sha {
				cmd = claimScript.EvalSha(ctx, pipe, keys, args...)
			} else {
				cmd = claimScript.Eval(ctx, pipe, keys, args...)
			}
		})
		var v any
		if err == nil {
			v, err = cmd.Result()
		}
		if err == nil {
			var b batch
			if b, err = parseBatch(v); err == nil {
				if b.acked > 0 {
					n.count(func(c *Counters) { c.Handled += b.acked })
				}
				return b, true
			}
		}
		if len(acks) > 0 && !errors.Is(err, errFenced) {
			p.mu.Lock()
			p.acks = append(acks, p.acks...)
			p.mu.Unlock()
		}
		if errors.Is(err, errFenced) {
			p.t.bg.Go(func() { p.t.lose(p, "its read was fenced out: another process holds the lease") })
			return batch{}, false
		}
		if !p.pause(ctx, "claim", err) {
			return batch{}, false
		}
	}
}

// parseBatch reads claimScript's reply.
func parseBatch(v any) (batch, error) {
	if _, ok := v.(int64); ok {
		return batch{}, errFenced
	}
	r, ok := v.([]any)
	if !ok || len(r) != 5 {
		return batch{}, fmt.Errorf("cluster: unexpected claim reply %T", v)
	}
	var b batch
	b.next, _ = r[0].(string)
	entries, _ := r[1].([]any)
	flags, _ := r[2].([]any)
	var err error
	if b.msgs, b.dup, err = parseEntries(entries, flags); err != nil {
		return batch{}, err
	}
	b.acked, _ = r[4].(int64)
	deleted, _ := r[3].([]any)
	for _, d := range deleted {
		if id, ok := d.(string); ok {
			b.deleted = append(b.deleted, id)
		}
	}
	return b, nil
}

// parseEntries reads the entries of a script's reply, and their flags: 1
// for a duplicate.
func parseEntries(entries, flags []any) ([]rawEntry, map[string]bool, error) {
	msgs := make([]rawEntry, 0, len(entries))
	var dup map[string]bool
	for i, e := range entries {
		e, _ := e.([]any)
		if len(e) != 2 {
			return nil, nil, fmt.Errorf("cluster: unexpected entry in a read's reply: %v", e)
		}
		var m rawEntry
		m.ID, _ = e[0].(string)
		m.fields, _ = e[1].([]any)
		msgs = append(msgs, m)
		if i < len(flags) {
			if f, _ := flags[i].(int64); f == 1 {
				if dup == nil {
					dup = map[string]bool{}
				}
				dup[m.ID] = true
			}
		}
	}
	return msgs, dup, nil
}

// pause waits a moment after a failed read, and reports whether reading
// goes on.
func (p *partition) pause(ctx context.Context, op string, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	p.t.n.log.Warn("cluster: partition "+op+" failed; retrying", "partition", p.p, "err", err)
	select {
	case <-ctx.Done():
		return false
	case <-time.After(p.t.n.block): // a retry's pause, not lease timing
		return true
	}
}

// serve hands a batch of entries over, dropping the duplicates, and
// reports whether reading goes on.
func (p *partition) serve(ctx context.Context, b batch) bool {
	for _, m := range b.msgs {
		if b.dup[m.ID] {
			p.t.n.count(func(c *Counters) { c.Duplicates++ })
			p.t.n.log.Debug("cluster: duplicate dropped", "partition", p.p, "id", m.ID, "platform_id", m.value(fieldID))
			p.track(m.ID)
			p.handled(m.ID)
			continue
		}
		if !p.handOver(ctx, m) {
			return false
		}
	}
	return true
}

// handOver gives entry m to its adapter's scope manager, and reports
// whether reading goes on.
func (p *partition) handOver(ctx context.Context, m rawEntry) bool {
	n := p.t.n
	if ctx.Err() != nil {
		// Stopped while the read was under way: the entry stays pending,
		// for the partition's next term.
		return false
	}
	if p.expired(n.clock.Now()) {
		// The lease may have expired unseen (a pause): act no more.
		p.t.bg.Go(func() { p.t.lose(p, "its lease's term ended before it was renewed") })
		return false
	}
	e, err := decode(m)
	var sink adapters.Sink
	if err == nil {
		if sink, err = n.sink(ctx, e.adapter); ctx.Err() != nil {
			return false
		}
	}
	var ev event.Event
	if err == nil {
		ev, err = e.event(sink)
	}
	if err != nil {
		n.log.Error("cluster: entry cannot be served; dropped", "partition", p.p, "id", m.ID, "err", err)
		n.count(func(c *Counters) { c.Dropped++ })
		p.track(m.ID)
		p.handled(m.ID)
		return true
	}
	p.track(m.ID)
	for {
		err = sink.Deliver(ctx, e.key, ev, func() *scope.Scope { return e.facts.scope(e.key) }, p.ackFor(m.ID))
		if !errors.Is(err, scope.ErrTooManyScopes) {
			break
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(10 * time.Millisecond): // room for a scope, not lease timing
			continue
		}
		break
	}
	if err != nil {
		p.untrack()
		if ctx.Err() == nil {
			// Give the partition up rather than hold it unread: its next
			// owner, perhaps this process again, claims the entry.
			n.log.Warn("cluster: entry not delivered; it stays pending", "partition", p.p, "id", m.ID, "err", err)
			p.t.bg.Go(func() { p.t.lose(p, "an entry could not be delivered") })
		}
		return false
	}
	return true
}

// track records that entry id is handed over.
func (p *partition) track(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.order = append(p.order, id)
	p.lastRead = id
	p.busy++
}

// untrack undoes the busy count of an entry that was not delivered: it
// stays pending, and in order, so that no trim passes it.
func (p *partition) untrack() {
	p.mu.Lock()
	p.doneLocked()
	p.mu.Unlock()
}

func (p *partition) doneLocked() {
	p.busy--
	if p.busy == 0 && p.idle != nil {
		close(p.idle)
		p.idle = nil
	}
}

// ackFor returns the scope.Ack of entry id: handled ids are acknowledged;
// one that was not handled stays pending, for the next owner.
func (p *partition) ackFor(id string) scope.Ack {
	return func(err error) {
		if err != nil {
			p.untrack()
			return
		}
		p.handled(id)
	}
}

// handled queues id's acknowledgement. It never blocks.
func (p *partition) handled(id string) {
	p.mu.Lock()
	p.done[id] = true
	p.acks = append(p.acks, id)
	p.doneLocked()
	p.mu.Unlock()
	p.g.acked()
}

// ackLinger is how long the acker gathers acknowledgements before sending
// them, unless a read carries them first (a busy partition's reads come
// sooner); trimEvery is how many entries it lets handled entries pile up in
// the stream before it trims them.
const (
	ackLinger = 2 * time.Millisecond
	trimEvery = 256
)

// errFenced: the lease's token is not the partition's any more.
var errFenced = errors.New("cluster: fenced out: the lease has another owner")

// takeAcks takes the handled ids to acknowledge and, every trimEvery
// entries or when final, the lowest id to keep in the stream: the oldest
// still in hand ("" for no trim).
func (p *partition) takeAcks(final bool) (ids []string, keep string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids = p.acks
	p.acks = nil
	i := 0
	for i < len(p.order) && p.done[p.order[i]] {
		delete(p.done, p.order[i])
		i++
	}
	p.order = p.order[i:]
	p.untrimmed += i
	keep = p.lastRead
	if len(p.order) > 0 {
		keep = p.order[0]
	}
	if keep == p.trimmed || (!final && p.untrimmed < trimEvery) {
		keep = ""
	}
	return ids, keep
}

// giveBack returns ids that a failed call took, to be acknowledged later.
func (p *partition) giveBack(ids []string) {
	if len(ids) == 0 {
		return
	}
	p.mu.Lock()
	p.acks = append(ids, p.acks...)
	p.mu.Unlock()
}

// trimmedTo records a trim to keep, if there was one.
func (p *partition) trimmedTo(keep string) {
	if keep == "" {
		return
	}
	p.mu.Lock()
	p.trimmed, p.untrimmed = keep, 0
	p.mu.Unlock()
}

// flush acknowledges the handled entries and trims the stream up to the
// oldest entry still in hand, in one script that checks the lease's token
// first: the last step of giving the partition up.
func (p *partition) flush(ctx context.Context) error {
	steps := p.g.takeAcks([]step{{p: p}}, true)
	if len(steps) == 0 {
		return nil
	}
	res, err := p.g.run(ctx, steps)
	p.g.settle(steps, res, err)
	switch {
	case err != nil:
		return err
	case res[0].fenced:
		return errFenced
	}
	return nil
}
