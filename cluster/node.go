package cluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Node is one process's member of a cluster: the adapters.Journal of its
// Hosts. It appends what they take, and while at least one Host is
// attached it takes its share of the partitions and hands their entries
// to the attached Hosts. It leaves the cluster, giving its partitions up,
// when the first Host detaches: a process that no longer serves every
// adapter must not own partitions. A Node runs one membership at a time;
// after it left, the next Attach joins again.
//
// All methods are safe for concurrent use.
type Node struct {
	c     goredis.UniversalClient
	pipe  pipe // appends, fetches and acknowledgements, gathered into pipelines
	cfg   Config
	keys  keys
	id    string
	clock scope.Clock
	log   *slog.Logger
	block time.Duration // how long a read waits for entries
	// perSlot: c is a Redis Cluster client, on which a command's keys
	// share a slot; each partition is then read and acknowledged alone.
	perSlot bool
	// beforeRead, if set, runs each time an owner is about to read a
	// partition: tests hold an owner there, as a pause would.
	beforeRead func(partition int)

	mu      sync.Mutex
	sinks   map[string]adapters.Sink // guarded by mu
	attach  chan struct{}            // closed and replaced when a sink attaches; guarded by mu
	term    *term                    // the membership running, or nil; guarded by mu
	counter Counters                 // guarded by mu
	taken   map[int]int64            // times each partition was taken; guarded by mu
	claimed map[int]int64            // entries claimed per partition; guarded by mu
	owners  owners                   // OnOwned
}

var _ adapters.BatchJournal = (*Node)(nil)

// Option configures what a Node gets as code rather than data.
type Option func(*options)

type options struct {
	clock      scope.Clock
	log        *slog.Logger
	id         string
	beforeRead func(partition int)
}

// WithClock sets the clock that times balancing rounds, renewals and
// lease terms. Default: the wall clock. Leases expire on Redis' own clock;
// retries and the batching of acknowledgements keep the wall clock.
func WithClock(c scope.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithID names the Node among the members. Default: a random id, new for
// each process, so that a restarted process never mistakes an old term
// for its own.
func WithID(id string) Option { return func(o *options) { o.id = id } }

// New returns a Node on c, which the caller keeps and closes, with keys
// under prefix. Processes of one cluster use the same Redis, prefix and
// Config.Partitions. c's pool must hold a connection for the Node's wait
// for entries (on Redis Cluster one per partition the Node may own at
// once: each waits alone), plus one for the pipelines that carry the
// appends, reads and acknowledgements, and a few for leases and
// membership.
func New(c goredis.UniversalClient, prefix string, cfg Config, opts ...Option) (*Node, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no Redis client", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{clock: scope.WallClock{}, log: slog.Default()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.id == "" {
		o.id = rand.Text()
	}
	cfg = cfg.withDefaults()
	_, perSlot := c.(*goredis.ClusterClient)
	return &Node{c: c, pipe: pipe{c: c}, cfg: cfg, keys: keys{prefix}, id: o.id, clock: o.clock, log: o.log, perSlot: perSlot,
		block: min(cfg.Lease/3, time.Second), beforeRead: o.beforeRead, sinks: map[string]adapters.Sink{}, attach: make(chan struct{}),
		taken: map[int]int64{}, claimed: map[int]int64{}}, nil
}

// ID returns the Node's name among the members.
func (n *Node) ID() string { return n.id }

// Append appends r to its partition's stream: one XADD, sent with the
// other appends, fetches and acknowledgements the Node has under way (see
// pipe). A platform id (r.ID) travels with the entry; the partition's
// owner drops an entry whose id another entry carried in the last
// Config.DedupeTTL. It fails with adapters.ErrNotDurable when r's scope
// holds an adapter value that is not a plain value. When ctx ends first,
// Append returns ctx's error and r may be appended all the same: at least
// once, as when a reply is lost.
func (n *Node) Append(ctx context.Context, r adapters.Record) error {
	var err [1]error
	n.AppendBatch(ctx, []adapters.Record{r}, err[:])
	return err[0]
}

// AppendBatch implements adapters.BatchJournal: rs's XADDs go in one call
// of the pipe, so in one pipeline, in the order of rs.
func (n *Node) AppendBatch(ctx context.Context, rs []adapters.Record, errs []error) {
	type add struct {
		i, p int
		args goredis.XAddArgs
	}
	adds := make([]add, 0, len(rs))
	for i, r := range rs {
		fields, err := encode(r)
		if err != nil {
			errs[i] = err
			continue
		}
		p := partitionOf(r.Adapter, r.Key, n.cfg.Partitions)
		adds = append(adds, add{i: i, p: p, args: goredis.XAddArgs{Stream: n.keys.stream(p), Values: fields}})
	}
	if len(adds) == 0 {
		return
	}
	// The pipe's goroutine fills cmds; they are read only once do
	// returned nil, as a call whose caller gave up may still run.
	cmds := make([]*goredis.StringCmd, len(adds))
	err := n.pipe.do(ctx, func(pipe goredis.Pipeliner, _ bool) {
		for j := range adds {
			cmds[j] = pipe.XAdd(ctx, &adds[j].args)
		}
	})
	var appended int64
	for j := range adds {
		err := err
		if err == nil {
			err = cmds[j].Err()
		}
		if err != nil {
			errs[adds[j].i] = fmt.Errorf("cluster: append to partition %d: %w", adds[j].p, err)
			continue
		}
		appended++
	}
	if appended > 0 {
		n.count(func(c *Counters) { c.Appended += appended })
	}
}

// Attach implements adapters.Journal: the Node joins the cluster with the
// first Host attached, and leaves it when one detaches.
func (n *Node) Attach(adapter string, s adapters.Sink) func(ctx context.Context) {
	n.mu.Lock()
	n.sinks[adapter] = s
	close(n.attach)
	n.attach = make(chan struct{})
	t := n.term
	if t == nil {
		t = n.join()
		n.term = t
	}
	n.mu.Unlock()
	var once sync.Once
	return func(ctx context.Context) {
		once.Do(func() {
			n.mu.Lock()
			delete(n.sinks, adapter)
			if n.term == t {
				n.term = nil
			}
			n.mu.Unlock()
			t.leave(ctx)
		})
	}
}

// sink returns the sink of adapter, waiting for it to attach until ctx
// ends.
func (n *Node) sink(ctx context.Context, adapter string) (adapters.Sink, error) {
	warned := false
	for {
		n.mu.Lock()
		s, ok := n.sinks[adapter]
		wait := n.attach
		n.mu.Unlock()
		if ok {
			return s, nil
		}
		if !warned {
			n.log.Warn("cluster: an entry names an adapter this process does not run; its partition waits for it",
				"adapter", adapter)
			warned = true
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Counters are what a Node did since it was made.
type Counters struct {
	Appended   int64 // entries appended
	Duplicates int64 // entries dropped for a platform id another entry carried lately
	Handled    int64 // entries acknowledged after their handler returned
	Claimed    int64 // entries claimed from a previous owner
	Dropped    int64 // entries that could not be read, acknowledged unhandled, or pending but gone from the stream
	Gained     int64 // partitions taken
	Lost       int64 // partitions lost: a renewal failed, or an acknowledgement was fenced out
	Released   int64 // partitions given up
	Rebalances int64 // balancing rounds that changed what the Node owns
}

// Counters returns what the Node did so far.
func (n *Node) Counters() Counters {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.counter
}

func (n *Node) count(f func(*Counters)) {
	n.mu.Lock()
	f(&n.counter)
	n.mu.Unlock()
}

// Owned returns the partitions the Node owns now, or nil when it is not a
// member.
func (n *Node) Owned() []int {
	n.mu.Lock()
	t := n.term
	n.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.owned()
}

// Ready returns a channel closed once the Node, a member, took its share
// of the partitions or knows it has none, or nil when it is not a member.
func (n *Node) Ready() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.term == nil {
		return nil
	}
	return n.term.ready
}

// ms formats d in whole milliseconds, rounded up, as Redis takes them.
func ms(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}

// within returns a context that ends with parent or once d passed on the
// Node's clock.
func (n *Node) within(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	if d <= 0 {
		cancel()
		return ctx, cancel
	}
	tick := n.clock.After(d)
	go func() {
		select {
		case <-tick:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
