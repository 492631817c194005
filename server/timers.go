package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/layer/redis"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/timer"
	timerredis "github.com/switchboard-bots/switchboard/timer/redis"
)

// TimersConfig runs the timers (package timer) of an adapter's
// conversations: its handlers schedule events with timer.After and
// timer.At, and a timer.Runner delivers each into its conversation when it
// is due, starting the conversation's scope again when it has ended.
// Timers live where the layer does: in the process's memory with
// backend: memory (lost when it exits), in a Redis sorted set per adapter
// with backend: redis (kept across restarts and shared by every process on
// that Redis and prefix, each timer firing in one of them). "timers: true"
// is short for a section with the defaults.
type TimersConfig struct {
	// Enabled runs timers for the adapter. Default: true when the timers
	// section is present, false without one.
	Enabled *bool `yaml:"enabled"`
	// PollInterval is how often the runner looks for due timers when it
	// found none: a timer fires at most about this late. Default: 100ms.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Lease is how long a claimed timer is its process's before another
	// may claim it, and so how late a timer comes when the process that
	// claimed it dies; a handler that runs longer may have its timer
	// delivered twice. Default: 10s.
	Lease time.Duration `yaml:"lease"`
	// Batch is how many due timers one claim takes at most. Default: 100.
	Batch int `yaml:"batch"`
}

// on reports whether t runs timers: a section without enabled: false.
func (t *TimersConfig) on() bool { return t != nil && enabled(t.Enabled) }

// Validate checks the section's values.
func (t *TimersConfig) Validate() error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("poll_interval must not be negative, got %v", t.PollInterval))
	}
	if t.Lease < 0 {
		errs = append(errs, fmt.Errorf("lease must not be negative, got %v", t.Lease))
	}
	if t.Batch < 0 {
		errs = append(errs, fmt.Errorf("batch must not be negative, got %d", t.Batch))
	}
	return errors.Join(errs...)
}

// runnerOptions are the timer.Runner's options of t.
func (t *TimersConfig) runnerOptions() []timer.RunnerOption {
	return []timer.RunnerOption{timer.WithPollInterval(t.PollInterval), timer.WithLease(t.Lease), timer.WithBatch(t.Batch)}
}

// timers is the server's timer store, made on first use: the memory
// store, or one on the layer's Redis.
type timers struct {
	once  sync.Once
	store timer.Store
	close func() error
}

// get returns the timer store of cfg's layer.
func (t *timers) get(cfg *Config) timer.Store {
	t.once.Do(func() {
		if cfg.Layer.Backend != "redis" {
			t.store, t.close = new(timer.Memory), func() error { return nil }
			return
		}
		rc := cfg.redisConfig()
		u, err := universalOptions(rc)
		if err != nil {
			// Validate rejected the URL already; this store reports it
			// on every call rather than losing a timer quietly.
			t.store, t.close = failedStore{err}, func() error { return nil }
			return
		}
		c := goredis.NewUniversalClient(u)
		var opts []timerredis.Option
		if p := rc.Prefix; p != "" {
			if !strings.HasSuffix(p, ".") && !strings.HasSuffix(p, ":") {
				p += "."
			}
			opts = append(opts, timerredis.WithPrefix(p))
		}
		t.store = timerredis.New(c, opts...)
		t.close = c.Close
	})
	return t.store
}

// Close closes the store's Redis client, if it made one.
func (t *timers) Close() error {
	var err error
	t.once.Do(func() {}) // none made from here on
	if t.close != nil {
		err = t.close()
	}
	return err
}

// redisPrefix is the prefix of the layer's keys; the timers' keys start
// with it too when it is set, and with timer/redis's DefaultPrefix
// otherwise.
func redisPrefix(rc redis.Config) string {
	if rc.Prefix == "" {
		return redis.DefaultPrefix
	}
	return rc.Prefix
}

// failedStore is a timer store whose Redis could not be configured.
type failedStore struct{ err error }

func (f failedStore) Schedule(context.Context, ...timer.Timer) error { return f.err }
func (f failedStore) Cancel(context.Context, string, string, string) (bool, error) {
	return false, f.err
}
func (f failedStore) Claim(context.Context, string, time.Time, int, time.Duration) ([]timer.Claim, error) {
	return nil, f.err
}
func (f failedStore) Ack(context.Context, ...timer.Claim) error { return f.err }

// timed is what a Host with timers runs beside it.
type timed struct {
	cfg   TimersConfig
	store timer.Store
}

// setTimers records that h runs the timers of sec, if sec has them on.
func (s *Server) setTimers(c *Config, h *adapters.Host, sec *AdapterSection) {
	if !sec.Timers.on() {
		return
	}
	st := s.timers.get(c)
	s.timedMu.Lock()
	defer s.timedMu.Unlock()
	if s.timed == nil {
		s.timed = map[*adapters.Host]timed{}
	}
	s.timed[h] = timed{cfg: *sec.Timers, store: st}
}

// timedApp returns the application h serves: s.app, under
// timer.Middleware when h runs timers, so that its handlers can schedule
// them.
func (s *Server) timedApp(h *adapters.Host) (scope.Application, *timed) {
	s.timedMu.Lock()
	t, ok := s.timed[h]
	s.timedMu.Unlock()
	if !ok {
		return s.app, nil
	}
	return timer.Middleware(t.store)(s.app), &t
}

// runTimers delivers h's due timers from when it serves until it stops or
// the server begins to shut down, and returns once it stopped.
func (s *Server) runTimers(ctx context.Context, h *adapters.Host, t *timed, ran <-chan struct{}) {
	defer func() {
		s.timedMu.Lock()
		delete(s.timed, h)
		s.timedMu.Unlock()
	}()
	select {
	case <-h.Ready():
	case <-ran:
		return
	case <-ctx.Done():
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ran:
		case <-s.stopRetries: // Shutdown began: the Host takes nothing new
		case <-ctx.Done():
		}
		cancel()
	}()
	d := timer.DeliverFunc(h.Deliver)
	r := timer.NewRunner(t.store, h.Name(), d, append(t.cfg.runnerOptions(), timer.WithLogger(s.log))...)
	s.log.Debug("timers running", "adapter", h.Name())
	_ = r.Run(ctx)
}
