package telegram

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/ratelimit"
)

// WithSharedLimits makes the adapter keep Telegram's limits (Limits: per
// bot, per chat, per group) on l too, together with every process that
// shares l, so that N processes sending for one bot stay under the bot's
// limits together; a 429's retry_after pauses the chat or the bot on l for
// all of them. The adapter's own limits in this process still apply
// (they keep one chat's messages in order). Default: none. Factory sets it
// from adapters.Setup.Limiter.
func WithSharedLimits(l ratelimit.Limiter) Option { return func(o *options) { o.shared = l } }

// sharedLimits are the keys of one bot's limits on a shared Limiter:
// "telegram:{<bot id>}:bot" and "telegram:{<bot id>}:chat:<chat id>", on
// one Redis Cluster slot per bot.
type sharedLimits struct {
	l                   ratelimit.Limiter
	bot                 string
	global, chat, group ratelimit.Limit
}

func newSharedLimits(l ratelimit.Limiter, token string, lim Limits) *sharedLimits {
	if l == nil {
		return nil
	}
	id, _, _ := strings.Cut(token, ":") // the bot's id: Validate checked the token's shape
	bot := "telegram:{" + id + "}"
	return &sharedLimits{l: l, bot: bot + ":bot",
		global: ratelimit.PerSecond(bot+":bot", lim.Global),
		chat:   ratelimit.PerSecond(bot+":chat:", lim.Chat),
		group:  ratelimit.Per(bot+":chat:", lim.Group, time.Minute)}
}

// limits returns the limits a call counts against: the bot's, and its
// chat's when it is a message.
func (s *sharedLimits) limits(c outCall) []ratelimit.Limit {
	if !c.limited {
		return []ratelimit.Limit{s.global}
	}
	return []ratelimit.Limit{s.global, s.chatLimit(c.chat)}
}

// chatLimit returns a chat's limit: a private chat's, or a group's
// (groups, supergroups and channels have negative ids).
func (s *sharedLimits) chatLimit(chat int64) ratelimit.Limit {
	l := s.chat
	if chat < 0 {
		l = s.group
	}
	l.Key += strconv.FormatInt(chat, 10)
	return l
}

// key returns the key a 429 for c pauses: its chat's, or the bot's.
func (s *sharedLimits) key(c outCall) string {
	if c.chat != 0 {
		return s.chatLimit(c.chat).Key
	}
	return s.bot
}

// waitShared waits for c's slot on the shared limits, after the
// process's own. A shared Limiter that fails (Redis unreachable) is
// logged and passed over: the call still goes under this process's
// limits, rather than not at all.
func (a *Adapter) waitShared(ctx context.Context, c outCall) error {
	if a.shared == nil {
		return nil
	}
	d, err := a.shared.l.Reserve(ctx, a.shared.limits(c)...)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.log.Warn("telegram: shared rate limits unreachable; keeping this process's alone", "adapter", a.cfg.Name,
			"method", c.method, "err", err)
		return nil
	}
	return a.lim.sleep(ctx, d)
}

// settleShared counts c, a message, as made now on its chat's shared
// limit, once Telegram answered it (ratelimit.Limiter.Settle): a message
// held up on its way leaves the chat's next one, from any process, a
// whole interval after it reached Telegram.
func (a *Adapter) settleShared(ctx context.Context, c outCall) {
	if a.shared == nil || !c.limited {
		return
	}
	if err := a.shared.l.Settle(ctx, a.shared.chatLimit(c.chat)); err != nil && ctx.Err() == nil {
		a.log.Warn("telegram: shared rate limits unreachable", "adapter", a.cfg.Name, "method", c.method, "err", err)
	}
}

// pauseShared pauses c's chat, or the bot, on the shared limits for d.
func (a *Adapter) pauseShared(ctx context.Context, c outCall, d time.Duration) {
	if a.shared == nil {
		return
	}
	if err := a.shared.l.Pause(ctx, a.shared.key(c), d); err != nil && ctx.Err() == nil {
		a.log.Warn("telegram: shared rate limits unreachable; pausing this process alone", "adapter", a.cfg.Name,
			"method", c.method, "err", err)
	}
}
