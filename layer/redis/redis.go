package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/layer"
)

var (
	_ layer.Layer             = (*Layer)(nil)
	_ layer.Subscriber        = (*Layer)(nil)
	_ layer.AllSender         = (*Layer)(nil)
	_ layer.QueuedGroupSender = (*Layer)(nil)
)

// Option configures what a Layer gets as code rather than data.
type Option func(*options)

type options struct {
	log    *slog.Logger
	client goredis.UniversalClient
	hooks  []goredis.Hook
	obs    layer.SkipObserver
}

// WithSkipObserver counts in obs the deliveries group sends skip because
// members' keys are full; each is also logged at warn through the layer's
// logger, at most once per group per layer.DefaultSkipWarnEvery with the
// count since the last line. Default: logged only.
func WithSkipObserver(obs layer.SkipObserver) Option {
	return func(o *options) { o.obs = obs }
}

// WithLogger sets the logger for what the layer cannot report to a caller,
// such as a receive loop waiting for Redis to come back. Default:
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithClient makes the layer use c, a client the caller prepared and
// still owns (Close leaves it open), instead of dialling Config.URL,
// Sentinel or Cluster. Config.Mode must still say which kind of server c
// talks to: single, sentinel or cluster. Blocking receives share c's pool,
// so its PoolSize must leave room for them: one connection per channel
// received at once, each held up to Config.BlockTime. In cluster mode the
// layer adds a hook to c that reloads its map of slots as soon as a node
// cannot be reached, so that a master's replacement is found at once.
// Give c ContextTimeoutEnabled, or its calls wait for its read timeout
// whatever their context allows.
func WithClient(c goredis.UniversalClient) Option {
	return func(o *options) { o.client = c }
}

// WithHook adds h to every client the layer makes, for metrics or
// tracing of the commands it sends. A client given by WithClient keeps the
// hooks its owner added.
func WithHook(h goredis.Hook) Option {
	return func(o *options) { o.hooks = append(o.hooks, h) }
}

// shard is one Redis deployment: a client for commands and, so that
// receivers blocked in Redis cannot starve senders of connections, another
// for blocking pops.
type shard struct {
	cmd, block goredis.UniversalClient
	health     *health
}

// Layer is a channel layer on Redis, wire-compatible with channels_redis.
// All methods are safe for concurrent use.
type Layer struct {
	cfg      Config
	keys     keys
	shards   []shard
	place    func(name string, n int) int // the shard of a name; see Config.Hash
	fanIn    bool                         // receive loops read every shard; see fanIn
	cluster  bool
	owned    []goredis.UniversalClient // closed by Close
	codec    codec
	clock    clock
	log      *slog.Logger
	clientID string // marks this process's process-local channels

	expiryUs      int64
	groupExpiryUs int64
	ttl           string // channel key time to live, in ms
	ttlArg        any    // ttl, boxed once for Send's script arguments
	capacity      any    // the default capacity, as a script argument
	capArgs       []any  // capacity rules for groupSendScript

	// noMultiPop is set once Redis refused BZMPOP (before 7.0): receive
	// loops of process-local keys then pop one message blocking and the
	// rest with ZPOPMIN (see popLocal).
	noMultiPop atomic.Bool

	closed  atomic.Bool
	closing sync.RWMutex  // orders starting receive loops before Close's wait
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup

	tallies tallies
	skips   *layer.SkipReporter
	batch   groupBatch // group sends on their way to a single server

	mu      sync.Mutex         // guards pollers; locked before any poller's mu
	pollers map[string]*poller // by the key part of their channels
}

// New returns a layer configured by cfg, whose zero fields take their
// defaults. It does not dial: connections are made on first use, and an
// unreachable server shows up as errors from the operations.
func New(cfg Config, opts ...Option) (*Layer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	cfg = cfg.withDefaults()
	crypt, err := newCrypter(cfg.EncryptionKeys)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	l := &Layer{
		cfg:           cfg,
		cluster:       cfg.Mode == ModeCluster,
		codec:         codec{crypt: crypt},
		log:           o.log,
		clientID:      clientID(),
		expiryUs:      cfg.Expiry.Microseconds(),
		groupExpiryUs: cfg.GroupExpiry.Microseconds(),
		ttl:           strconv.FormatInt(max(cfg.Expiry.Milliseconds(), 1), 10),
		capArgs:       capacityArgs(cfg.ChannelCapacity),
		capacity:      strconv.Itoa(cfg.Capacity),
		done:          make(chan struct{}),
		pollers:       make(map[string]*poller),
	}
	l.batch.room = make(chan struct{}, maxQueuedSends)
	l.skips = layer.NewSkipReporter(o.log, o.obs, layer.DefaultSkipWarnEvery, nil)
	l.keys = keys{prefix: cfg.Prefix, tagged: l.cluster}
	l.place, _ = cfg.Hash.place() // checked by Validate
	l.tallies = tallies{byKey: make(map[string]*tally), pruneAt: minPruneAt, every: refreshEvery.Microseconds()}
	l.ttlArg = l.ttl
	if o.client != nil {
		if cfg.Mode == ModeShards {
			return nil, fmt.Errorf("%w: WithClient gives one client, shards mode needs one per shard", ErrConfig)
		}
		if cfg.Mode == ModeCluster {
			watchCluster(o.client)
		}
		// Answers on a client the caller owns are not watched: its
		// receivers probe it whenever they wait (see watch).
		l.shards = []shard{{cmd: o.client, block: o.client, health: &health{}}}
		return l, nil
	}
	if err := l.dial(); err != nil {
		return nil, err
	}
	l.fanIn = len(l.shards) > 1 && cfg.Hash != HashJump
	for _, sh := range l.shards {
		sh.cmd.AddHook(heardHook{sh.health})
		sh.block.AddHook(heardHook{sh.health})
	}
	for _, c := range l.owned {
		for _, h := range o.hooks {
			c.AddHook(h)
		}
	}
	return l, nil
}

// noRetries turns off go-redis' retrying of failed commands: a send whose
// reply was lost may have been executed, and sending it again would
// deliver it twice, where the channel layer promises at most once. The
// caller sees the error instead and decides. Dialling is tried once, so
// that an outage is reported at once rather than after seconds of
// retries; receive loops retry on their own, with backoff.
const noRetries = -1

// dial makes the clients; go-redis connects lazily, so nothing is sent.
func (l *Layer) dial() error {
	c := l.cfg
	// Blocking pops hold their connection for up to BlockTime; the read
	// deadline must outlast that, or a reply carrying a popped message
	// would be cut off and the message lost.
	blocking := func(o *goredis.Options) *goredis.Options {
		b := *o
		b.PoolSize = c.ReceiveConnections
		b.ReadTimeout = c.BlockTime + 10*time.Second
		b.PoolTimeout = c.BlockTime + 5*time.Second
		return &b
	}
	switch c.Mode {
	case ModeSingle, ModeShards:
		urls := c.Shards
		if c.Mode == ModeSingle {
			urls = []string{c.URL}
		}
		for _, u := range urls {
			o, err := goredis.ParseURL(u)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrConfig, err)
			}
			o.MaxRetries, o.DialerRetries = noRetries, 1
			// Commands end with the caller's deadline; without this,
			// go-redis waits for its read timeout (5 s) whatever the
			// context allows. Blocking pops run without a deadline.
			o.ContextTimeoutEnabled = true
			sh := shard{cmd: goredis.NewClient(o), block: goredis.NewClient(blocking(o)), health: &health{}}
			l.shards = append(l.shards, sh)
			l.owned = append(l.owned, sh.cmd, sh.block)
		}
	case ModeSentinel, ModeCluster:
		u := &goredis.UniversalOptions{}
		if c.URL != "" {
			o, err := goredis.ParseURL(c.URL)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrConfig, err)
			}
			u.Username, u.Password, u.DB, u.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
		}
		// The mode is set explicitly, never left for go-redis to infer
		// from the number of addresses.
		if c.Mode == ModeSentinel {
			u.MasterName, u.Addrs, u.SentinelPassword = c.Sentinel.MasterName, c.Sentinel.Addrs, c.Sentinel.Password
		} else {
			u.IsClusterMode, u.Addrs = true, c.Cluster.Addrs
		}
		u.MaxRetries, u.DialerRetries = noRetries, 1
		u.ContextTimeoutEnabled = true
		b := *u
		b.PoolSize = c.ReceiveConnections
		b.ReadTimeout = c.BlockTime + 10*time.Second
		b.PoolTimeout = c.BlockTime + 5*time.Second
		sh := shard{cmd: goredis.NewUniversalClient(u), block: goredis.NewUniversalClient(&b), health: &health{}}
		watchCluster(sh.cmd, sh.block)
		l.shards = []shard{sh}
		l.owned = append(l.owned, sh.cmd, sh.block)
	}
	return nil
}

// clientID returns 12 random lower-case letters and digits, the marker
// that NewChannel puts before the "!" of this process's channels.
func clientID() string {
	return strings.ToLower(rand.Text()[:12])
}

// shardFor returns the shard holding name: a group, or the key part of a
// channel (see nonLocal).
func (l *Layer) shardFor(name string) *shard {
	return &l.shards[l.place(name, len(l.shards))]
}

// NewChannel returns prefix followed by this layer's marker, "!" and 16
// random characters. Messages to it are stored under prefix+marker+"!",
// shared by all the layer's channels with that prefix, and received by one
// loop that routes them by their full name.
func (l *Layer) NewChannel(_ context.Context, prefix string) (string, error) {
	if l.closed.Load() {
		return "", ErrClosed
	}
	if err := layer.ValidGroupName(prefix); err != nil {
		return "", invalid(err)
	}
	name, err := layer.NewChannelName(prefix + l.clientID)
	return name, invalid(err)
}

// Flush deletes every key that starts with the prefix, on every shard, and
// drops messages this process took from Redis but has not handed out.
// Receivers that are waiting keep waiting.
func (l *Layer) Flush(ctx context.Context) error {
	if l.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for i := range l.shards {
		c := l.shards[i].cmd
		if cc, ok := c.(*goredis.ClusterClient); ok {
			errs = append(errs, cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
				return l.deletePrefix(ctx, c)
			}))
			continue
		}
		errs = append(errs, l.deletePrefix(ctx, c))
	}
	l.mu.Lock()
	for _, p := range l.pollers {
		p.mu.Lock()
		for _, ib := range p.inboxes {
			ib.buf = nil
		}
		p.mu.Unlock()
	}
	l.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return failCtx(ctx, "flush prefix", l.cfg.Prefix, err)
	}
	return nil
}

// deletePrefix deletes the prefix's keys in batches found by SCAN, which
// unlike channels_redis' KEYS does not stall a server shared with others.
func (l *Layer) deletePrefix(ctx context.Context, c goredis.Cmdable) error {
	iter := c.Scan(ctx, 0, l.cfg.Prefix+"*", 1000).Iterator()
	batch := make([]string, 0, 500)
	drop := func() error {
		if len(batch) == 0 {
			return nil
		}
		// Keys are unlinked one by one, since in a cluster a batch may
		// span slots.
		_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range batch {
				p.Unlink(ctx, k)
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == cap(batch) {
			if err := drop(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return drop()
}

// Close releases blocked receivers with ErrClosed, waits for the receive
// loops to finish the pop they are in (at most Config.BlockTime), putting
// back anything they took, and closes the clients the layer made.
func (l *Layer) Close() error {
	l.closing.Lock()
	first := l.closed.CompareAndSwap(false, true)
	l.closing.Unlock()
	if !first {
		return nil
	}
	close(l.done)
	l.wg.Wait()
	l.skips.Flush()
	var errs []error
	for _, c := range l.owned {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that Redis answers: every shard in shards mode, every master
// in cluster mode, the master in sentinel mode, the given client with
// WithClient. It is a readiness check, so every failure wraps
// ErrUnavailable, even a reply that is an error (a wrong password) and a
// closed layer (which also matches ErrClosed): either way the layer
// cannot serve. It sends only PING, on the command connections; the
// connections kept for blocking receives are not touched.
func (l *Layer) Ping(ctx context.Context) error {
	if l.closed.Load() {
		return &opError{op: "ping", name: l.cfg.Prefix, err: ErrClosed, outage: true}
	}
	errs := make([]error, len(l.shards))
	var wg sync.WaitGroup
	for i := range l.shards {
		// Shards are pinged at once, so that one down shard costs one
		// dial timeout, not one per shard.
		wg.Go(func() { errs[i] = ping(ctx, l.shards[i].cmd) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ping pings c, or each master of a cluster client.
func ping(ctx context.Context, c goredis.UniversalClient) error {
	if cc, ok := c.(*goredis.ClusterClient); ok {
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			return ping(ctx, c)
		})
		if err != nil && !errors.Is(err, ErrUnavailable) {
			// The cluster's layout could not be loaded: no master known.
			err = &opError{op: "ping", name: "cluster", err: err, outage: true}
		}
		return err
	}
	if err := c.Ping(ctx).Err(); err != nil {
		name := ""
		if cl, ok := c.(*goredis.Client); ok {
			name = cl.Options().Addr
			if name == "FailoverClient" { // go-redis' stand-in for a Sentinel master
				name = "sentinel master"
			}
		}
		return &opError{op: "ping", name: name, err: err, outage: true}
	}
	return nil
}
