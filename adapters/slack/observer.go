package slack

import (
	"context"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// WithObserver reports retries of a Web API call or a response_url post, and rate-limit waits,
// to o with the adapter's name. Default: none; a nil o means none.
func WithObserver(o adapters.Observer) Option { return func(opts *options) { opts.obs = o } }

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
