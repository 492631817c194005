package discord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/time/rate"

	"github.com/switchboard-bots/switchboard/adapters"
)

// transport is the REST client's way out. It points discordgo's URLs,
// which it builds from package variables for Discord's API v9, at the
// configured API (v10 by default) without touching those variables, and
// it keeps Discord's global limit, which discordgo's buckets do not: a
// steady pace below it, and a pause for every route after a global 429.
type transport struct {
	base    http.RoundTripper
	api     *url.URL
	limiter *rate.Limiter // nil: no pace of its own
	report  func() adapters.Report

	mu    sync.Mutex
	until time.Time // the end of a global 429's window
}

func newTransport(base http.RoundTripper, api string, perSecond float64, report func() adapters.Report) (*transport, error) {
	u, err := url.Parse(api)
	if err != nil {
		return nil, fmt.Errorf("api_url: %w", err)
	}
	t := &transport{base: base, api: u, report: report}
	if perSecond > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(perSecond), 1)
	}
	return t, nil
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	rest, ok := strings.CutPrefix(req.URL.String(), discordgo.EndpointAPI)
	if !ok {
		return nil, fmt.Errorf("discord: refusing a request outside the API: %s", req.URL.Redacted())
	}
	u, err := t.api.Parse(rest)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.URL, out.Host = u, ""
	if err := t.wait(req); err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Global") == "" {
		return resp, err
	}
	// A global 429: every route pauses for its retry_after. The body is
	// read here and handed on for discordgo to read again.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tooMany struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &tooMany) == nil && tooMany.RetryAfter > 0 {
		until := time.Now().Add(time.Duration(tooMany.RetryAfter*float64(time.Second)) + margin)
		t.mu.Lock()
		if until.After(t.until) {
			t.until = until
		}
		t.mu.Unlock()
	}
	return resp, nil
}

// wait waits, within req's context, for a global 429's window to end and
// for the pace's next slot.
func (t *transport) wait(req *http.Request) error {
	ctx := req.Context()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > time.Millisecond {
			t.report().Waited(d)
		}
	}()
	t.mu.Lock()
	until := t.until
	t.mu.Unlock()
	if d := time.Until(until); d > 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if t.limiter != nil {
		return t.limiter.Wait(ctx)
	}
	return nil
}
