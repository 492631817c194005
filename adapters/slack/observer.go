package slack

import (
	"context"
	"time"
)

// Observer is told about the adapter's outbound trouble, for metrics.
// *ops.Metrics satisfies it; the interface is declared here, where it is
// used, so that the adapter does not depend on any metrics package.
// Its methods are called from the goroutines making the calls, at once,
// so they must be safe for concurrent use and should not block.
type Observer interface {
	// OutboundRetry is called each time a Web API call or a response_url
	// post is made again after a 429, a 5xx or a network error.
	OutboundRetry(adapter string)
	// RateLimitWait is called each time an outbound call waited d > 0 for
	// a rate limit: its method's or its channel's limiter, or a 429's
	// Retry-After. A wait cut short by the call's context reports the
	// part spent waiting. Backoff after a 5xx or a network error is not a
	// rate limit and is not reported.
	RateLimitWait(adapter string, d time.Duration)
}

// WithObserver reports retries and rate-limit waits to o, with the
// adapter's name. Default: none; a nil o means none.
func WithObserver(o Observer) Option { return func(opts *options) { opts.obs = o } }

// retried tells the observer, if any, that a call is about to be retried.
func (a *Adapter) retried() {
	if a.obs != nil {
		a.obs.OutboundRetry(a.cfg.Name)
	}
}

// rateWaited is the limiters' report of a wait, bound to the adapter's
// observer and name once, in New, so that a wait costs no allocation.
func (a *Adapter) rateWaited(d time.Duration) { a.obs.RateLimitWait(a.cfg.Name, d) }

// pause waits d before a retry, until ctx ends at most. A pause for a
// 429 (rateLimited) is a rate-limit wait and is reported as one.
func (a *Adapter) pause(ctx context.Context, d time.Duration, rateLimited bool) error {
	var start time.Time
	if rateLimited && a.obs != nil {
		start = a.now()
	}
	var err error
	select {
	case <-a.after(d):
	case <-ctx.Done():
		err = ctx.Err()
		d = min(d, a.now().Sub(start))
	}
	if rateLimited && a.obs != nil && d > 0 {
		a.rateWaited(d)
	}
	return err
}
