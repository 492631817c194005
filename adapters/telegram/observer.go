package telegram

import (
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// WithObserver reports retries of a Bot API call (a send, getMe, setWebhook, deleteWebhook); the getUpdates long poll is not counted: it is repeated forever by design, and its failures are logged instead, and rate-limit waits,
// to o with the adapter's name. Default: none; a nil o means none.
func WithObserver(o adapters.Observer) Option { return func(opts *options) { opts.obs = o } }

// retried tells the observer, if any, that a call is about to be retried.
func (a *Adapter) retried() {
	if a.obs != nil {
		a.obs.OutboundRetry(a.cfg.Name)
	}
}

// rateWaited is the limiter's report of a wait, bound to the adapter's
// observer and name once, in New, so that a wait costs no allocation.
func (a *Adapter) rateWaited(d time.Duration) { a.obs.RateLimitWait(a.cfg.Name, d) }
