package discordtest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Violation is a request that a client keeping Discord's rate limits would
// not have made.
type Violation struct {
	// Kind is "bucket" (its bucket was exhausted and not yet reset),
	// "global" (over the global limit) or "retry_after" (inside the window
	// of a 429 answered before).
	Kind    string
	Route   string
	Channel string
	Time    time.Time
}

func (v Violation) String() string {
	return fmt.Sprintf("%s on %s %s at %s", v.Kind, v.Route, v.Channel, v.Time.Format("15:04:05.000000"))
}

// rateState is the fake's rate limits. Its fields are guarded by Server.mu.
type rateState struct {
	buckets     map[string]*bucket // route + major parameter
	globalStart time.Time          // the current global window's start
	globalCount int
	globalUntil time.Time // the end of a global 429's window
	violations  []Violation
	limited     int // 429s answered
}

type bucket struct {
	remaining int
	reset     time.Time
	until     time.Time // the end of a 429's window on this bucket
}

func (st *rateState) init() { st.buckets = map[string]*bucket{} }

// Violations returns the requests made against the limits, in order.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Violation(nil), s.rl.violations...)
}

// RateLimited returns how many requests were answered 429.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rl.limited
}

// limit counts a request to route with its major parameter against the
// limits, writes the rate-limit headers, and answers 429 and returns false
// when the request is over them.
func (s *Server) limit(w http.ResponseWriter, route, major string) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.rl
	b := st.buckets[route+" "+major]
	if b == nil {
		b = &bucket{}
		st.buckets[route+" "+major] = b
	}
	if !now.Before(b.reset) {
		b.remaining, b.reset = s.limits.Route, now.Add(s.limits.Window)
	}
	h := w.Header()
	sum := sha1.Sum([]byte(route))
	h.Set("X-RateLimit-Bucket", hex.EncodeToString(sum[:8]))
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limits.Route))
	violate := func(kind string) {
		st.violations = append(st.violations, Violation{Kind: kind, Route: route, Channel: major, Time: now})
	}
	switch {
	case now.Before(st.globalUntil):
		violate("retry_after")
		s.tooMany(w, st.globalUntil.Sub(now), true, b, now)
		return false
	case now.Before(b.until):
		violate("retry_after")
		s.tooMany(w, b.until.Sub(now), false, b, now)
		return false
	}
	if now.Sub(st.globalStart) >= time.Second {
		st.globalStart, st.globalCount = now, 0
	}
	st.globalCount++
	if st.globalCount > s.limits.Global {
		violate("global")
		st.globalUntil = st.globalStart.Add(time.Second)
		s.tooMany(w, st.globalUntil.Sub(now), true, b, now)
		return false
	}
	if b.remaining == 0 {
		violate("bucket")
		b.until = b.reset
		s.tooMany(w, b.reset.Sub(now), false, b, now)
		return false
	}
	b.remaining--
	resetHeaders(h, b, now)
	return true
}

// resetHeaders writes X-RateLimit-Remaining, -Reset and -Reset-After. The
// times are rounded up to the millisecond, as a client must not read them
// as earlier than they are.
func resetHeaders(h http.Header, b *bucket, now time.Time) {
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.remaining))
	h.Set("X-RateLimit-Reset", seconds(float64(b.reset.UnixNano())/1e9))
	h.Set("X-RateLimit-Reset-After", seconds(b.reset.Sub(now).Seconds()))
}

// seconds formats s seconds with three decimals, rounded up.
func seconds(s float64) string { return strconv.FormatFloat(math.Ceil(s*1000)/1000, 'f', 3, 64) }

// tooMany answers 429 for a wait of d; global says whether the global limit
// was hit. Called with s.mu held.
func (s *Server) tooMany(w http.ResponseWriter, d time.Duration, global bool, b *bucket, now time.Time) {
	s.rl.limited++
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	if global {
		h.Set("X-RateLimit-Global", "true")
		h.Set("X-RateLimit-Scope", "global")
	} else {
		h.Set("X-RateLimit-Scope", "user")
		resetHeaders(h, b, now)
	}
	retry, _ := strconv.ParseFloat(seconds(d.Seconds()), 64)
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": retry, "global": global})
}
