package ops

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// DefaultSlowAfter is SlowHandlers' default threshold.
const DefaultSlowAfter = 30 * time.Second

// SlowHandlers watches every handler its Middleware wraps and reports
// those running longer than a threshold: a handler blocked on a slow
// database holds its conversation's scope, and scopes held that way fill
// an adapter's max_scopes until every new conversation is refused.
//
// It watches at the middleware, not in the scope manager, because the
// middleware sees each event's start and end without a lock the manager
// shares with delivery, and one watcher covers every adapter the server
// runs. Per event it costs two clock reads and an uncontended lock; a
// scope adds one entry to a sharded set while it lives. Run scans the set
// every quarter threshold and:
//
//   - logs "handler running long" at Warn once per slow event, naming the
//     adapter, the conversation key, the event type and how long it has
//     run;
//   - sets switchboard_handlers_slow{adapter} to the number running over
//     the threshold, and counts each one in
//     switchboard_handlers_slow_total{adapter};
//   - answers Check: an adapter whose slow handlers fill most of its
//     max_scopes is not ready, since it can take no new conversation.
type SlowHandlers struct {
	after time.Duration
	log   *slog.Logger
	now   func() time.Time
	epoch time.Time

	gauge *prometheus.GaugeVec
	total *prometheus.CounterVec

	shards [16]watchShard
	next   atomic.Uint64 // the shard of the next scope

	mu   sync.Mutex
	slow map[string][]slowOne // by adapter, from the last scan
}

type watchShard struct {
	mu sync.Mutex
	m  map[*watched]struct{}
}

// watched is one scope's instance: what runs in it, since when.
type watched struct {
	s     *scope.Scope
	mu    sync.Mutex
	start int64  // nanoseconds since epoch; 0 while no handler runs
	typ   string // the event type being handled
	seq   uint64 // counts events, so that a warning is given once per event
	told  uint64 // the seq last warned about
}

// slowOne is a handler running long, as a scan found it.
type slowOne struct {
	key, typ string
	for_     time.Duration
	x        *watched // where it runs, to tell later whether it still does
	seq      uint64   // the event x was handling
}

// SlowOptions configure SlowHandlers.
type SlowOptions struct {
	// After is the threshold. Default: DefaultSlowAfter.
	After time.Duration
	// Logger gets the warnings. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// NewSlowHandlers registers the slow handler collectors on reg.
func NewSlowHandlers(reg prometheus.Registerer, o SlowOptions) (*SlowHandlers, error) {
	if o.After <= 0 {
		o.After = DefaultSlowAfter
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	w := &SlowHandlers{after: o.After, log: o.Logger, now: o.Now, epoch: o.Now(), slow: map[string][]slowOne{},
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "switchboard", Name: "handlers_slow",
			Help: "Handlers running longer than the slow threshold at the last scan, by adapter."}, []string{"adapter"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "switchboard", Name: "handlers_slow_total",
			Help: "Events whose handler ran longer than the slow threshold, by adapter."}, []string{"adapter"}),
	}
	for i := range w.shards {
		w.shards[i].m = map[*watched]struct{}{}
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{w.gauge, w.total} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("ops: slow handlers: %w", err)
			}
		}
	}
	return w, nil
}

// After returns the threshold.
func (w *SlowHandlers) After() time.Duration { return w.after }

func (w *SlowHandlers) clock() int64 { return int64(w.now().Sub(w.epoch)) + 1 }

// shard spreads scopes over the shards in turn.
func (w *SlowHandlers) shard() *watchShard {
	return &w.shards[w.next.Add(1)%uint64(len(w.shards))]
}

// Middleware watches the handlers of every scope it wraps.
func (w *SlowHandlers) Middleware() router.Middleware {
	return router.EventMiddleware(func(_ context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		next, err := start(conn)
		if err != nil {
			return nil, err
		}
		x := &watched{s: s}
		sh := w.shard()
		sh.mu.Lock()
		sh.m[x] = struct{}{}
		sh.mu.Unlock()
		return func(ctx context.Context, ev event.Event) error {
			x.mu.Lock()
			x.start, x.typ = w.clock(), ev.Type()
			x.seq++
			x.mu.Unlock()
			defer func() {
				x.mu.Lock()
				x.start = 0
				x.mu.Unlock()
				if _, final := ev.(scope.Final); final {
					sh.mu.Lock()
					delete(sh.m, x)
					sh.mu.Unlock()
				}
			}()
			return next(ctx, ev)
		}, nil
	})
}

// Run scans every quarter threshold until ctx ends.
func (w *SlowHandlers) Run(ctx context.Context) {
	t := time.NewTicker(max(w.after/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Scan()
		}
	}
}

// Scan looks for slow handlers once: what Run does on each tick.
func (w *SlowHandlers) Scan() {
	now := w.clock()
	cut := int64(w.after)
	found := map[string][]slowOne{}
	var warn []slowOne
	var warnAdapter []string
	for i := range w.shards {
		sh := &w.shards[i]
		sh.mu.Lock()
		for x := range sh.m {
			x.mu.Lock()
			if x.start != 0 && now-x.start >= cut {
				one := slowOne{key: x.s.Key, typ: x.typ, for_: time.Duration(now - x.start), x: x, seq: x.seq}
				found[x.s.Adapter] = append(found[x.s.Adapter], one)
				if x.told != x.seq {
					x.told = x.seq
					warn = append(warn, one)
					warnAdapter = append(warnAdapter, x.s.Adapter)
				}
			}
			x.mu.Unlock()
		}
		sh.mu.Unlock()
	}
	w.mu.Lock()
	for a := range w.slow {
		if _, ok := found[a]; !ok {
			w.gauge.WithLabelValues(a).Set(0)
		}
	}
	for a, l := range found {
		sort.Slice(l, func(i, j int) bool { return l[i].for_ > l[j].for_ })
		w.gauge.WithLabelValues(a).Set(float64(len(l)))
	}
	w.slow = found
	w.mu.Unlock()
	for i, one := range warn {
		w.total.WithLabelValues(warnAdapter[i]).Inc()
		w.log.Warn("handler running long", "adapter", warnAdapter[i], "key", one.key,
			"event", one.typ, "running_for", one.for_.Round(time.Millisecond), "threshold", w.after)
	}
}

// Slow returns how many handlers of adapter ran longer than the
// threshold at the last scan.
func (w *SlowHandlers) Slow(adapter string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.slow[adapter])
}

// NearBound is the share of an adapter's max_scopes that slow handlers
// must hold for Check to call it not ready: at 90% the adapter has almost
// no room for a new conversation, and what holds the room is stuck.
const NearBound = 0.9

// Check returns a readiness check for the adapter named adapter, whose
// scopes are bounded by maxScopes (no check when maxScopes <= 0): it fails
// when slow handlers hold NearBound of the bound, naming how many and the
// longest running one.
func (w *SlowHandlers) Check(adapter string, maxScopes int) func(context.Context) error {
	return func(context.Context) error {
		if maxScopes <= 0 {
			return nil
		}
		w.mu.Lock()
		l := w.slow[adapter]
		w.mu.Unlock()
		if float64(len(l)) < NearBound*float64(maxScopes) {
			return nil
		}
		return fmt.Errorf("%d of max_scopes %d conversations are held by handlers running over %v (longest: key %s, %s, %v): new conversations are refused",
			len(l), maxScopes, w.after, l[0].key, l[0].typ, l[0].for_.Round(time.Second))
	}
}
