package slack

import (
	"context"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// WithObserver reports rate-limit waits and retries of a Web API call or a
// response_url post to o with the adapter's name. Default: none; a nil o
// means none.
func WithObserver(o adapters.Observer) Option { return func(opts *options) { opts.obs = o } }

// pause waits d before a retry, until ctx ends at most. A pause for a
// 429 (rateLimited) is a rate-limit wait and is reported as one.
func (a *Adapter) pause(ctx context.Context, d time.Duration, rateLimited bool) error {
	var start time.Time
	if rateLimited && a.observe.On() {
		start = a.now()
	}
	var err error
	select {
	case <-a.after(d):
	case <-ctx.Done():
		err = ctx.Err()
		d = min(d, a.now().Sub(start))
	}
	if rateLimited {
		a.observe.Waited(d)
	}
	return err
}
