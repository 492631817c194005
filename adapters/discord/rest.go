package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
)

// margin lengthens every rate-limit wait: Discord's reset times come in
// milliseconds and discordgo truncates them as it parses, so a wait of
// exactly the time read could end a hair before Discord's reset.
const margin = 10 * time.Millisecond

// getJSON GETs url and decodes its answer into v.
func (a *Adapter) getJSON(ctx context.Context, url string, v any) error {
	body, err := a.call(ctx, "GET", url, nil)
	if err != nil {
		return a.refusal("GET "+url, err)
	}
	return json.Unmarshal(body, v)
}

// call makes a REST call through discordgo's rate limiter: it takes the
// route's bucket (waiting, within ctx, while the bucket is exhausted), makes
// the request, and lets the bucket read the answer's X-RateLimit headers.
// A 429 is waited out for its retry_after and the call made again; a 5xx
// or a network error is retried with backoff (a message's nonce makes that
// safe); each up to Config.Retries times.
func (a *Adapter) call(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	backoff := 250 * time.Millisecond
	for attempt := 0; ; attempt++ {
		b, err := a.lockBucket(ctx, url)
		if err != nil {
			return nil, err
		}
		out, err := a.rest.RequestWithLockedBucket(method, url, "application/json", body, b, 0,
			discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false), discordgo.WithRestRetries(0))
		if err == nil || attempt >= a.cfg.Retries || ctx.Err() != nil {
			return out, err
		}
		var wait time.Duration
		var limited *discordgo.RateLimitError
		var rest *discordgo.RESTError
		switch {
		case errors.As(err, &limited):
			wait = limited.RetryAfter + margin
		case errors.As(err, &rest) && rest.Response.StatusCode < http.StatusInternalServerError:
			return out, err // a refusal: trying again cannot help
		default:
			wait, backoff = backoff, 2*backoff
		}
		a.observe().Retry()
		if err := a.sleep(ctx, wait, limited != nil); err != nil {
			return nil, err
		}
	}
}

// lockBucket locks url's bucket of discordgo's rate limiter, as
// RateLimiter.LockBucket does, but waits for its reset within ctx.
func (a *Adapter) lockBucket(ctx context.Context, url string) (*discordgo.Bucket, error) {
	rl := a.rest.Ratelimiter
	b := rl.GetBucket(url)
	b.Lock()
	for {
		wait := rl.GetWaitTime(b, 1)
		if wait <= 0 {
			break
		}
		if err := a.sleep(ctx, wait+margin, true); err != nil {
			b.Unlock()
			return nil, err
		}
	}
	b.Remaining--
	return b, nil
}

// sleep waits d on the wall clock, or until ctx ends; a rate-limit wait is
// reported to the Host's observer.
func (a *Adapter) sleep(ctx context.Context, d time.Duration, limit bool) error {
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	defer func() {
		if limit {
			a.observe().Waited(time.Since(start))
		}
	}()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
