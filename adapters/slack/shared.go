package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/switchboard-bots/switchboard/ratelimit"
)

// WithSharedLimits makes the adapter keep Slack's limits (each Web API
// method's tier, and chat.postMessage's per channel: rate_limits,
// post_rate, post_burst) on l too, together with every process that
// shares l, so that N processes with a Socket Mode connection each stay
// under the app's limits together; a 429's Retry-After pauses the method
// on l for all of them. The adapter's own limits in this process still
// apply. Default: none; nil is none. Factory sets it from
// adapters.Setup.Limiter.
func WithSharedLimits(l ratelimit.Limiter) Option { return func(o *options) { o.shared = l } }

// sharedLimits are the keys of one app's limits on a shared Limiter:
// "slack:{<token hash>}:method:<method>" and
// "slack:{<token hash>}:channel:<channel>", on one Redis Cluster slot per
// bot token. The token is hashed, so that no key names it.
type sharedLimits struct {
	l       ratelimit.Limiter
	base    string
	perMin  map[string]float64 // overrides of methodTiers
	channel ratelimit.Limit    // its key without the channel
}

func newSharedLimits(l ratelimit.Limiter, cfg Config) *sharedLimits {
	if l == nil {
		return nil
	}
	sum := sha256.Sum256([]byte(cfg.BotToken))
	base := "slack:{" + hex.EncodeToString(sum[:8]) + "}"
	ch := ratelimit.PerSecond(base+":channel:", cfg.PostRate)
	ch.Burst = cfg.PostBurst
	return &sharedLimits{l: l, base: base, perMin: cfg.RateLimits, channel: ch}
}

// methodKey returns the key of method's limit.
func (s *sharedLimits) methodKey(method string) string { return s.base + ":method:" + method }

// limits returns the limits a call of method to channel counts against:
// the method's, and the channel's for chat.postMessage. A method's burst
// is a tenth of its minute, as the process's own buckets allow.
func (s *sharedLimits) limits(method, channel string) []ratelimit.Limit {
	perMin := methodPerMin(s.perMin, method)
	m := ratelimit.Per(s.methodKey(method), perMin, time.Minute)
	m.Burst = max(1, int(perMin/10))
	if method != "chat.postMessage" {
		return []ratelimit.Limit{m}
	}
	return []ratelimit.Limit{m, s.channelLimit(channel)}
}

// channelLimit returns a channel's chat.postMessage limit.
func (s *sharedLimits) channelLimit(channel string) ratelimit.Limit {
	l := s.channel
	l.Key += channel
	return l
}

// waitShared waits for the call's slot on the shared limits, after the
// process's own. A shared Limiter that fails (Redis unreachable) is
// logged and passed over: the call still goes under this process's
// limits, rather than not at all.
func (a *Adapter) waitShared(ctx context.Context, method, channel string) error {
	if a.shared == nil {
		return nil
	}
	d, err := a.shared.l.Reserve(ctx, a.shared.limits(method, channel)...)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.log.Warn("slack: shared rate limits unreachable; keeping this process's alone", "adapter", a.cfg.Name,
			"method", method, "err", err)
		return nil
	}
	if d <= 0 {
		return nil
	}
	return a.pause(ctx, d, true)
}

// settleShared counts a post to channel as made now on the channel's
// shared limit, once Slack answered it (ratelimit.Limiter.Settle): a post
// held up on its way leaves the channel's next one, from any process, a
// whole spacing after it reached Slack.
func (a *Adapter) settleShared(ctx context.Context, channel string) {
	if a.shared == nil {
		return
	}
	if err := a.shared.l.Settle(ctx, a.shared.channelLimit(channel)); err != nil && ctx.Err() == nil {
		a.log.Warn("slack: shared rate limits unreachable", "adapter", a.cfg.Name, "err", err)
	}
}

// pauseShared pauses method on the shared limits for d.
func (a *Adapter) pauseShared(ctx context.Context, method string, d time.Duration) {
	if a.shared == nil {
		return
	}
	if err := a.shared.l.Pause(ctx, a.shared.methodKey(method), d); err != nil && ctx.Err() == nil {
		a.log.Warn("slack: shared rate limits unreachable; pausing this process alone", "adapter", a.cfg.Name,
			"method", method, "err", err)
	}
}
