package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

const numShards = 64

var (
	_ layer.Layer      = (*Layer)(nil)
	_ layer.Subscriber = (*Layer)(nil)
	_ layer.AllSender  = (*Layer)(nil)
)

// Option configures what a Layer gets as code rather than data.
type Option func(*options)

type options struct {
	clock func() time.Time // nil: the monotonic clock
	log   *slog.Logger
	obs   layer.SkipObserver
}

// WithLogger sets the logger of the layer's warnings: the members group
// sends skip because their channels are full (see layer.SkipReporter).
// Default: none.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// WithSkipObserver counts in obs the members group sends skip because
// their channels are full. Default: none.
func WithSkipObserver(obs layer.SkipObserver) Option { return func(o *options) { o.obs = obs } }

// WithClock sets the clock that message and membership expiry is measured
// with, so that tests can move time instead of waiting for it. Default:
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.clock = now
		}
	}
}

// Layer is an in-memory channel layer. See the package documentation for
// how it shares events. All methods are safe for concurrent use.
type Layer struct {
	cfg         layer.Config
	expiry      int64            // cfg.Expiry in nanoseconds
	groupExpiry int64            // cfg.GroupExpiry in nanoseconds
	clock       func() time.Time // nil: the monotonic clock
	epoch       time.Time
	seed        maphash.Seed

	closed  atomic.Bool
	done    chan struct{} // closed by Close to release blocked receivers
	waiters sync.Pool     // of *waiter

	skips *layer.SkipReporter

	// claims are the claimed prefixes (Claim), read without a lock
	// when a channel is created; claimMu orders their changes.
	claimMu sync.Mutex
	claims  atomic.Pointer[map[string]*claim]

	groups groups // locked before any shard
	shards [numShards]shard
}

// New returns an empty layer configured by cfg, whose zero fields take
// their defaults.
func New(cfg layer.Config, opts ...Option) (*Layer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg = cfg.WithDefaults()
	l := &Layer{
		cfg:         cfg,
		expiry:      int64(cfg.Expiry),
		groupExpiry: int64(cfg.GroupExpiry),
		clock:       o.clock,
		seed:        maphash.MakeSeed(),
		done:        make(chan struct{}),
	}
	var skipClock func() time.Time
	if o.clock != nil {
		skipClock = o.clock
	}
	l.skips = layer.NewSkipReporter(o.log, o.obs, layer.DefaultSkipWarnEvery, skipClock)
	if l.clock == nil {
		l.epoch = time.Now()
	} else {
		l.epoch = l.clock()
	}
	l.waiters.New = func() any { return &waiter{ready: make(chan struct{}, 1)} }
	return l, nil
}

// now reads the clock as nanoseconds since the layer was made. Without an
// injected clock only the monotonic clock is read, which is both cheaper
// than time.Now and immune to wall clock steps.
func (l *Layer) now() int64 {
	if l.clock == nil {
		return int64(time.Since(l.epoch))
	}
	return int64(l.clock().Sub(l.epoch))
}

// after returns now+d, saturating so that huge expiries mean "never".
func after(now, d int64) int64 {
	if now > math.MaxInt64-d {
		return math.MaxInt64
	}
	return now + d
}

func (l *Layer) shardIndex(channel string) int {
	return int(maphash.String(l.seed, channel) % numShards)
}

// Send queues msg on channel, or fails with an error wrapping
// layer.ErrChannelFull. It never blocks, so ctx is not consulted.
func (l *Layer) Send(_ context.Context, channel string, msg event.Event) error {
	if err := layer.ValidChannelName(channel); err != nil {
		return err
	}
	if err := layer.ValidEvent(msg); err != nil {
		return fmt.Errorf("layer: send to %q: %w", channel, err)
	}
	s := &l.shards[l.shardIndex(channel)]
	s.mu.Lock()
	if l.closed.Load() {
		s.mu.Unlock()
		return layer.ErrClosed
	}
	now := l.now()
	c := s.channels[channel]
	if c == nil {
		c = l.create(s, channel, now)
	}
	ok := c.offer(msg, &lazyShared{}, now, after(now, l.expiry))
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("layer: send to %q: %w", channel, layer.ErrChannelFull)
	}
	return nil
}

// Receive takes the oldest unexpired message from channel, waiting for one
// if there is none. A message that is already queued is returned even when
// ctx has ended; otherwise an ended ctx makes Receive return ctx.Err().
func (l *Layer) Receive(ctx context.Context, channel string) (event.Event, error) {
	if err := layer.ValidChannelName(channel); err != nil {
		return nil, err
	}
	s := &l.shards[l.shardIndex(channel)]
	var w *waiter
	s.mu.Lock()
	for {
		if l.closed.Load() {
			s.mu.Unlock()
			l.putWaiter(w)
			return nil, layer.ErrClosed
		}
		c := s.channels[channel]
		if c != nil && c.n > 0 {
			if ev, ok := c.take(l.now()); ok {
				s.mu.Unlock()
				l.putWaiter(w)
				return ev, nil
			}
		}
		if err := ctx.Err(); err != nil {
			s.mu.Unlock()
			l.putWaiter(w)
			return nil, err
		}
		if c == nil {
			c = l.create(s, channel, l.now())
		}
		if w == nil {
			w = l.waiters.Get().(*waiter)
		}
		c.enqueue(w)
		s.mu.Unlock()

		select {
		case <-w.ready:
		case <-ctx.Done():
		case <-l.done:
		}

		s.mu.Lock()
		if w.ch != nil { // not signalled: still queued
			w.ch.dequeue(w)
		}
		// A signal that raced with ctx or Close must not be seen by the
		// next wait.
		select {
		case <-w.ready:
		default:
		}
	}
}

func (l *Layer) putWaiter(w *waiter) {
	if w != nil {
		l.waiters.Put(w)
	}
}

// NewChannel returns prefix + "!" + 16 random characters. Names that
// random are unique for the life of the process without bookkeeping.
func (l *Layer) NewChannel(_ context.Context, prefix string) (string, error) {
	if l.closed.Load() {
		return "", layer.ErrClosed
	}
	return layer.NewChannelName(prefix)
}

// Flush drops every queued message and every group.
func (l *Layer) Flush(context.Context) error {
	g := &l.groups
	g.mu.Lock()
	defer g.mu.Unlock()
	if l.closed.Load() {
		return layer.ErrClosed
	}
	g.reset()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		s.flush()
		s.mu.Unlock()
	}
	return nil
}

// Close releases every blocked receiver with layer.ErrClosed and drops
// everything the layer holds.
func (l *Layer) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(l.done)
	l.skips.Flush()
	g := &l.groups
	g.mu.Lock()
	g.reset()
	g.mu.Unlock()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		// Waiting receivers still point at their channel and take
		// themselves off it when they wake, so only the queues go.
		for _, c := range s.list {
			c.clear()
		}
		s.channels, s.list, s.spare, s.cursor = nil, nil, nil, 0
		s.mu.Unlock()
	}
	return nil
}
