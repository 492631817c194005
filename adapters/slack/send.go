package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Send implements adapters.Adapter. It waits for the rate limiters (that
// wait is the outbound queue: a conversation's sends leave in order),
// rides out 429s and 5xx with retries, and makes the call. A call Slack
// refuses (channel_not_found, not_in_channel, msg_too_long, invalid_auth,
// or a rate limit or server error that outlasted the retries) returns an
// *adapters.RefusedError wrapping an *APIError: the instance decides what
// to do, and its conversation goes on. With Config.ErrorEvents the
// refusal also comes back to the scope as a slack.error event.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	method, channel, err := a.dispatch(ctx, s, ev)
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok {
		return err
	}
	a.log.Debug("slack: call refused", "adapter", a.cfg.Name, "scope", s.String(),
		"method", method, "channel", channel, "code", apiErr.Code)
	if a.cfg.ErrorEvents {
		a.postError(s, Error{Method: method, Channel: channel, Code: apiErr.Code, Event: ev.Type()})
	}
	return a.refused(apiErr)
}

// postError queues a slack.error for the scope. The instance is inside
// Send, and it is the one that empties its inbox: waiting for room would
// never end, so a full inbox drops the report.
func (a *Adapter) postError(s *scope.Scope, report Error) {
	in := a.intake()
	if in == nil {
		return
	}
	if err := in.TryPost(s.Key, report); err != nil && !errors.Is(err, scope.ErrEnded) && !errors.Is(err, scope.ErrClosed) {
		a.log.Warn("slack: error event not delivered", "adapter", a.cfg.Name, "scope", s.String(), "err", err)
	}
}

// Push implements adapters.Pusher: an outbound event that names its
// channel (or, for slack.respond, its response_url), sent without a scope.
// A refusal is an *adapters.RefusedError, as from Send.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	_, _, err := a.dispatch(ctx, nil, ev)
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return a.refused(apiErr)
	}
	return err
}

// dispatch decodes an outbound event, fills its defaults from s (nil for a
// push) and makes the call.
func (a *Adapter) dispatch(ctx context.Context, s *scope.Scope, ev event.Event) (method, channel string, err error) {
	var chatID, thread, user string
	if s != nil {
		chatID, thread, user = s.Chat.ID, s.Thread, s.User.ID
	}
	pick := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	switch ev.Type() {
	case event.Say{}.Type():
		m, err := event.Decode[event.Say](ev)
		if err != nil {
			return "", "", err
		}
		// The scope's own conversation: its channel and, if it has one,
		// its thread; never a reply to a particular message. Or the
		// channel To names, outside any thread.
		if m.To != "" {
			chatID, thread = m.To, ""
		}
		opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.Text, false)}
		if thread != "" {
			opts = append(opts, slackapi.MsgOptionTS(thread))
		}
		return "chat.postMessage", chatID, a.call(ctx, "chat.postMessage", chatID, func(ctx context.Context) error {
			_, _, err := a.api.PostMessageContext(ctx, chatID, opts...)
			return err
		})
	case Send{}.Type():
		m, err := event.Decode[Send](ev)
		if err != nil {
			return "", "", err
		}
		channel = pick(m.Channel, chatID)
		if m.Channel == "" || m.Channel == chatID {
			m.Thread = pick(m.Thread, thread)
		}
		opts, err := msgOptions(m.Text, m.Blocks)
		if err != nil {
			return "", channel, err
		}
		if m.Thread != "" {
			opts = append(opts, slackapi.MsgOptionTS(m.Thread))
			if m.Broadcast {
				opts = append(opts, slackapi.MsgOptionBroadcast())
			}
		}
		return "chat.postMessage", channel, a.call(ctx, "chat.postMessage", channel, func(ctx context.Context) error {
			_, _, err := a.api.PostMessageContext(ctx, channel, opts...)
			return err
		})
	case Update{}.Type():
		m, err := event.Decode[Update](ev)
		if err != nil {
			return "", "", err
		}
		channel = pick(m.Channel, chatID)
		opts, err := msgOptions(m.Text, m.Blocks)
		if err != nil {
			return "", channel, err
		}
		return "chat.update", channel, a.call(ctx, "chat.update", channel, func(ctx context.Context) error {
			_, _, _, err := a.api.UpdateMessageContext(ctx, channel, m.TS, opts...)
			return err
		})
	case React{}.Type():
		m, err := event.Decode[React](ev)
		if err != nil {
			return "", "", err
		}
		channel = pick(m.Channel, chatID)
		return "reactions.add", channel, a.call(ctx, "reactions.add", channel, func(ctx context.Context) error {
			return a.api.AddReactionContext(ctx, m.Name, slackapi.NewRefToMessage(channel, m.TS))
		})
	case Ephemeral{}.Type():
		m, err := event.Decode[Ephemeral](ev)
		if err != nil {
			return "", "", err
		}
		channel = pick(m.Channel, chatID)
		if m.Channel == "" || m.Channel == chatID {
			m.Thread = pick(m.Thread, thread)
		}
		to := pick(m.User, user)
		opts, err := msgOptions(m.Text, m.Blocks)
		if err != nil {
			return "", channel, err
		}
		if m.Thread != "" {
			opts = append(opts, slackapi.MsgOptionTS(m.Thread))
		}
		return "chat.postEphemeral", channel, a.call(ctx, "chat.postEphemeral", channel, func(ctx context.Context) error {
			_, err := a.api.PostEphemeralContext(ctx, channel, to, opts...)
			return err
		})
	case Respond{}.Type():
		m, err := event.Decode[Respond](ev)
		if err != nil {
			return "", "", err
		}
		if m.ResponseURL == "" {
			return "response_url", "", fmt.Errorf("slack: slack.respond without a response_url")
		}
		msg := &slackapi.WebhookMessage{Text: m.Text, ResponseType: m.ResponseType,
			ReplaceOriginal: m.ReplaceOriginal, DeleteOriginal: m.DeleteOriginal}
		if len(m.Blocks) > 0 {
			var b slackapi.Blocks
			if err := json.Unmarshal(m.Blocks, &b); err != nil {
				return "response_url", chatID, fmt.Errorf("slack: bad blocks: %w", err)
			}
			msg.Blocks = &b
		}
		// response_url posts are not Web API calls and have no tier; they
		// only get retries.
		return "response_url", chatID, a.call(ctx, "response_url", "", func(ctx context.Context) error {
			return slackapi.PostWebhookCustomHTTPContext(ctx, m.ResponseURL, a.client, msg)
		})
	}
	return "", "", fmt.Errorf("%w: %q", ErrUnknownEvent, ev.Type())
}

func msgOptions(text string, blocks json.RawMessage) ([]slackapi.MsgOption, error) {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		var b slackapi.Blocks
		if err := json.Unmarshal(blocks, &b); err != nil {
			return nil, fmt.Errorf("slack: bad blocks: %w", err)
		}
		opts = append(opts, slackapi.MsgOptionBlocks(b.BlockSet...))
	}
	return opts, nil
}

// call makes one Web API call under the method's limiter (and, for
// chat.postMessage, the channel's), retrying on 429, 5xx and network
// errors. Slack's error codes come back as *APIError. Errors are built
// from codes and status lines only: the client never puts a token in them.
func (a *Adapter) call(ctx context.Context, method, channel string, do func(context.Context) error) error {
	if channel == "" && method != "response_url" {
		return ErrNoChannel
	}
	var mb, cb *bucket
	if method != "response_url" {
		mb = a.limits.method(method)
	}
	if method == "chat.postMessage" {
		cb = a.limits.channel(channel)
	}
	for attempt := 0; ; attempt++ {
		if cb != nil {
			if err := cb.Wait(ctx); err != nil {
				return err
			}
		}
		if mb != nil {
			if err := mb.Wait(ctx); err != nil {
				return err
			}
			if err := a.waitShared(ctx, method, channel); err != nil {
				return err
			}
		}
		let := a.clock.Now()
		err := do(ctx)
		if cb != nil {
			cb.settle(let)
			a.settleShared(ctx, channel)
		}
		if err == nil {
			return nil
		}
		wait, retry := a.retryAfter(err, attempt)
		if !retry || attempt >= a.cfg.MaxRetries || ctx.Err() != nil {
			return a.classify(method, err)
		}
		if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
			a.log.Info("slack: rate limited; pausing", "adapter", a.cfg.Name, "method", method, "retry_after", rl.RetryAfter)
			if mb != nil {
				mb.pause(a.clock.Now().Add(wait))
				a.pauseShared(ctx, method, wait)
			}
		}
		if err := a.pause(ctx, wait, rateLimited(err)); err != nil {
			return err
		}
		a.observe().Retry()
	}
}

// rateLimited reports whether err is a 429: with Retry-After, as the
// client reports it, or without, as a bare status.
func rateLimited(err error) bool {
	if _, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return true
	}
	sc, ok := errors.AsType[slackapi.StatusCodeError](err)
	return ok && sc.Code == http.StatusTooManyRequests
}

// retryAfter says whether err is worth another try, and after how long.
func (a *Adapter) retryAfter(err error, attempt int) (time.Duration, bool) {
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return max(rl.RetryAfter, 100*time.Millisecond), true
	}
	backoff := min(100*time.Millisecond<<attempt, 10*time.Second)
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		return backoff, sc.Code >= 500 || sc.Code == http.StatusTooManyRequests
	}
	if _, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		return 0, false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	return backoff, true // a network error
}

// classify turns what the client returned into an *APIError carrying
// Slack's code, or returns ctx errors as they are.
func (a *Adapter) classify(method string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	code := "request_failed"
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		code = se.Err
	} else if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		code = fmt.Sprintf("http_%d", sc.Code)
	} else if _, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		code = "ratelimited"
	}
	return &APIError{Method: method, Code: code, Err: err}
}
