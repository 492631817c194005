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

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// sleep waits d on c, or until ctx ends.
func sleep(ctx context.Context, c scope.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-c.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

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
		err := sleep(ctx, c, d)
		r.Waited(d)
		if err != nil {
			return err
		}
	}
}

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
