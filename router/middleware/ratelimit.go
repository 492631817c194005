package middleware

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrRateLimited is wrapped by the error RateLimit returns for an event
// over the limit when it rejects without a callback.
var ErrRateLimited = errors.New("middleware: rate limited")

// RateOption configures RateLimit.
type RateOption func(*rateConfig)

// Reject makes RateLimit refuse an event over the limit at once instead of
// waiting for a token. The event does not reach the wrapped instance;
// onReject is called instead and its result returned from Handle. A nil
// error drops the event and the scope goes on: the place to tell the user
// to slow down, through conn. An error ends the scope, as any error from
// Handle does. With a nil onReject, Handle returns an error wrapping
// ErrRateLimited.
func Reject(onReject func(ctx context.Context, s *scope.Scope, conn scope.Conn, ev event.Event) error) RateOption {
	return func(c *rateConfig) {
		c.reject = true
		c.onReject = onReject
	}
}

type rateConfig struct {
	rate     float64 // tokens per second
	burst    float64
	reject   bool
	onReject func(ctx context.Context, s *scope.Scope, conn scope.Conn, ev event.Event) error
	now      func() time.Duration                             // monotonic
	wait     func(ctx context.Context, d time.Duration) error // sleeps d or until ctx ends
}

// RateLimit limits each scope to perSecond inbound events on average, with
// bursts of up to burst events, by a token bucket per scope that starts
// full. An event over the limit waits for its token, or until ctx ends, so
// nothing is lost: the wait holds up only this scope, and the scope
// manager's bounded inbox passes the backpressure on to the adapter. With
// the Reject option it is refused instead.
//
// The final event is never limited and takes no token. The bucket lives in
// the instance wrapper, a few words per scope, and is refilled by
// arithmetic on the clock when an event arrives: no goroutine and no timer
// per scope, and a timer only while an event waits.
//
// RateLimit panics when perSecond is not positive or burst is less than 1.
// An infinite perSecond does not limit, and adds nothing to the instance.
func RateLimit(perSecond float64, burst int, opts ...RateOption) router.Middleware {
	if !(perSecond > 0) || burst < 1 {
		panic(fmt.Sprintf("middleware: RateLimit(%g, %d): rate must be positive and burst at least 1", perSecond, burst))
	}
	epoch := time.Now()
	cfg := &rateConfig{
		rate:  perSecond,
		burst: float64(burst),
		now:   func() time.Duration { return time.Since(epoch) },
		wait:  sleep,
	}
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	limit := router.EventMiddleware(func(_ context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		next, err := start(conn)
		if err != nil {
			return nil, err
		}
		b := &bucket{tokens: cfg.burst, last: cfg.now()}
		return func(ctx context.Context, ev event.Event) error {
			if _, ok := ev.(scope.Final); ok {
				return next(ctx, ev)
			}
			return b.take(ctx, cfg, s, conn, ev, next)
		}, nil
	})
	return func(next scope.Application) scope.Application {
		if math.IsInf(perSecond, 1) {
			return next
		}
		return limit(next)
	}
}

// bucket is one scope's tokens. It needs no lock: a scope's events are
// handled one at a time.
type bucket struct {
	tokens float64       // may go below zero: tokens promised to waiting events
	last   time.Duration // when tokens was last brought up to date
}

// take passes ev on to next once it has a token, or rejects it.
func (b *bucket) take(ctx context.Context, c *rateConfig, s *scope.Scope, conn scope.Conn, ev event.Event, next scope.HandlerFunc) error {
	now := c.now()
	b.tokens = min(c.burst, b.tokens+(now-b.last).Seconds()*c.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return next(ctx, ev)
	}
	if c.reject {
		if c.onReject != nil {
			return c.onReject(ctx, s, conn, ev)
		}
		return fmt.Errorf("%w: scope %s: %q event over %g per second", ErrRateLimited, s, ev.Type(), c.rate)
	}
	// Take the token now and wait until it has been earned, so the next
	// event queues behind this one.
	d := time.Duration(math.Ceil((1 - b.tokens) / c.rate * float64(time.Second)))
	b.tokens--
	if err := c.wait(ctx, d); err != nil {
		b.tokens++
		return fmt.Errorf("middleware: rate limit: scope %s: waiting for %q event: %w", s, ev.Type(), err)
	}
	return next(ctx, ev)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
