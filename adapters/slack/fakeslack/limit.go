package fakeslack

import (
	"time"
)

// PostLimit is Slack's limit on chat.postMessage to one channel: "one
// message per second per channel, allowing bursts over short periods"
// (https://api.slack.com/methods/chat.postMessage#rate_limiting), kept as
// a token bucket of PerSecond with Burst at once. The fake refills it a
// tenth faster than PerSecond, so that a client pacing itself exactly is
// not refused for the jitter between its clock and its calls' arrival.
type PostLimit struct {
	PerSecond float64
	Burst     int
}

// postBuckets keeps a PostLimit per channel.
type postBuckets struct {
	limit   PostLimit
	tokens  map[string]float64
	last    map[string]time.Time
	limited int
}

// allowLocked takes a token of channel's bucket at now, or returns false.
func (b *postBuckets) allowLocked(channel string, now time.Time) bool {
	if b.tokens == nil {
		b.tokens, b.last = map[string]float64{}, map[string]time.Time{}
	}
	tokens, seen := b.tokens[channel]
	if !seen {
		tokens = float64(b.limit.Burst)
	} else {
		tokens = min(float64(b.limit.Burst), tokens+now.Sub(b.last[channel]).Seconds()*b.limit.PerSecond*1.1)
	}
	b.last[channel] = now
	if tokens < 1 {
		b.tokens[channel] = tokens
		b.limited++
		return false
	}
	b.tokens[channel] = tokens - 1
	return true
}

// RateLimited returns how many chat.postMessage calls Options.PostLimit
// answered 429: calls over Slack's limit.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts.limited
}
