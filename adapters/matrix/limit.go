package matrix

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"maunium.net/go/mautrix"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// gate holds every call of the account back while the homeserver's rate
// limit lasts: Matrix limits a user, not a room, so one M_LIMIT_EXCEEDED
// pauses all sends until its retry_after_ms has passed.
type gate struct {
	mu    sync.Mutex
	until time.Time
}

// pause holds calls back until t.
func (g *gate) pause(t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.After(g.until) {
		g.until = t
	}
}

// wait returns once no rate limit holds, reporting the time waited.
func (g *gate) wait(ctx context.Context, c scope.Clock, r adapters.Report) error {
	for {
		g.mu.Lock()
		d := g.until.Sub(c.Now())
		g.mu.Unlock()
		if d <= 0 {
			return nil
		}
		start := c.Now()
		err := adapters.Sleep(ctx, c, d)
		r.Waited(min(d, c.Now().Sub(start))) // a wait cut short reports its part
		if err != nil {
			return err
		}
	}
}

// call makes a homeserver call (fn, which must be safe to repeat: a send
// repeats its transaction id) under the account's rate limit and
// max_inflight. It retries network errors, 5xx and M_LIMIT_EXCEEDED up
// to retry.max_attempts, and returns what the homeserver refused as an
// *adapters.RefusedError naming method.
func (a *Adapter) call(ctx context.Context, method string, fn func(context.Context) error) error {
	report := a.observe()
	backoff := a.cfg.Retry.MinBackoff
	for attempt := 1; ; attempt++ {
		wait, again, err := a.attempt(ctx, fn)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if !again || attempt >= a.cfg.Retry.MaxAttempts {
			return a.refused(method, err)
		}
		if wait < 0 {
			wait = backoff
			backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
		}
		a.log.Debug("matrix: call failed; retrying", "method", method, "err", err, "retry_in", wait)
		if err := adapters.Sleep(ctx, a.clock, wait); err != nil {
			return err
		}
		report.Retry()
	}
}

// attempt makes fn's call once, holding a max_inflight slot from before
// the rate-limit wait until a limit it was answered is recorded, so that
// no call starts between the answer and the pause. It returns the wait
// before trying again (-1: the backoff's; 0 after a rate limit, which the
// gate waits out) and whether trying again may help.
func (a *Adapter) attempt(ctx context.Context, fn func(context.Context) error) (time.Duration, bool, error) {
	if err := a.acquire(ctx); err != nil {
		return 0, false, err
	}
	defer a.release()
	if err := a.gate.wait(ctx, a.clock, a.observe()); err != nil {
		return 0, false, err
	}
	cctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	err := fn(cctx)
	cancel()
	if err == nil {
		return 0, false, nil
	}
	wait, again := retryable(err)
	if he, ok := errors.AsType[mautrix.HTTPError](err); ok && he.Response != nil && rateLimit(he) >= 0 {
		// Never hammer a limit that named no wait.
		a.gate.pause(a.clock.Now().Add(max(wait, a.cfg.Retry.MinBackoff)))
		return 0, true, err
	}
	if wait == 0 {
		wait = -1
	}
	return wait, again, err
}

// acquire takes one of the max_inflight slots for a call, waiting until
// one is free or ctx ends; release gives it back.
func (a *Adapter) acquire(ctx context.Context) error {
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Adapter) release() { <-a.slots }

// retryable reports whether a call that failed with err may succeed if
// made again, and how long the homeserver asked to wait (0: no word).
func retryable(err error) (time.Duration, bool) {
	var he mautrix.HTTPError
	if !errors.As(err, &he) || he.Response == nil {
		return 0, true // no answer: a network error
	}
	if limit := rateLimit(he); limit >= 0 {
		return limit, true
	}
	code := he.Response.StatusCode
	return 0, code >= 500 || code == http.StatusRequestTimeout
}

// rateLimit returns the wait an M_LIMIT_EXCEEDED (or any 429) asks for:
// retry_after_ms from the body, else the Retry-After header, else 0; or
// -1 when err is no rate limit.
func rateLimit(he mautrix.HTTPError) time.Duration {
	limited := he.Response.StatusCode == http.StatusTooManyRequests
	if re := he.RespError; re != nil && re.ErrCode == mautrix.MLimitExceeded.ErrCode {
		limited = true
		if ms, ok := re.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if !limited {
		return -1
	}
	if s, err := strconv.Atoi(he.Response.Header.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// unauthorized reports whether the homeserver refused the access token.
func unauthorized(err error) bool {
	return errors.Is(err, mautrix.MUnknownToken) || errors.Is(err, mautrix.MMissingToken)
}

// refused returns err as an *adapters.RefusedError when the homeserver
// answered it, or unchanged (a network failure, a context's end).
func (a *Adapter) refused(method string, err error) error {
	var he mautrix.HTTPError
	if !errors.As(err, &he) || he.Response == nil {
		return err
	}
	re := &adapters.RefusedError{Adapter: a.name, Method: method, Code: strconv.Itoa(he.Response.StatusCode), Err: err}
	if he.RespError != nil {
		re.Code, re.Description = he.RespError.ErrCode, he.RespError.Err
	}
	_, re.Temporary = retryable(err)
	return re
}
