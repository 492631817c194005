package telegram

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// outCall is an outbound event as a Bot API call.
type outCall struct {
	event   string
	method  string
	chat    int64
	params  tgbotapi.Params
	files   []tgbotapi.RequestFile
	limited bool // counts against the message limits
}

// build turns an outbound event into its call. s, when not nil, supplies
// the chat (and topic) an event leaves out.
func (a *Adapter) build(ev event.Event, s *scope.Scope) (outCall, error) {
	switch ev.Type() {
	case TypeSend:
		e, err := event.Decode[Send](ev)
		if err != nil {
			return outCall{}, err
		}
		c, err := a.target(ev, TypeSend, "sendMessage", e.ChatID, e.ThreadID, s)
		if err != nil {
			return c, err
		}
		c.params["text"] = e.Text
		c.params.AddNonEmpty("parse_mode", e.ParseMode)
		a.replyParams(c.params, e.ReplyTo, e.Silent)
		c.params.AddBool("disable_web_page_preview", e.DisablePreview)
		return c, keyboard(c.params, e.Keyboard)
	case TypeSay:
		// Said in the scope's chat and topic, as no answer to anything,
		// or in the chat To names.
		e, err := event.Decode[event.Say](ev)
		if err != nil {
			return outCall{}, err
		}
		var chat int64
		if e.To != "" {
			if chat, err = strconv.ParseInt(e.To, 10, 64); err != nil || chat == 0 {
				return outCall{}, fmt.Errorf("telegram: chat.say to %q: to must be a chat id", e.To)
			}
		}
		c, err := a.target(ev, TypeSay, "sendMessage", chat, 0, s)
		if err != nil {
			return c, err
		}
		c.params["text"] = e.Text
		return c, nil
	case TypeEdit:
		e, err := event.Decode[Edit](ev)
		if err != nil {
			return outCall{}, err
		}
		c := outCall{event: TypeEdit, method: "editMessageText", params: tgbotapi.Params{}, limited: true}
		if e.InlineMessageID != "" {
			c.params["inline_message_id"] = e.InlineMessageID
		} else {
			if c, err = a.target(ev, TypeEdit, "editMessageText", e.ChatID, 0, s); err != nil {
				return c, err
			}
			delete(c.params, "message_thread_id") // an edit addresses the message, not the topic
			c.params.AddNonZero("message_id", e.MessageID)
		}
		c.params["text"] = e.Text
		c.params.AddNonEmpty("parse_mode", e.ParseMode)
		return c, keyboard(c.params, e.Keyboard)
	case TypeAnswerCallback:
		e, err := event.Decode[AnswerCallback](ev)
		if err != nil {
			return outCall{}, err
		}
		p := tgbotapi.Params{"callback_query_id": e.CallbackQueryID}
		p.AddNonEmpty("text", e.Text)
		p.AddBool("show_alert", e.ShowAlert)
		p.AddNonEmpty("url", e.URL)
		p.AddNonZero("cache_time", e.CacheTime)
		return outCall{event: TypeAnswerCallback, method: "answerCallbackQuery", params: p}, nil
	case TypeChatAction:
		e, err := event.Decode[ChatAction](ev)
		if err != nil {
			return outCall{}, err
		}
		c, err := a.target(ev, TypeChatAction, "sendChatAction", e.ChatID, e.ThreadID, s)
		if err != nil {
			return c, err
		}
		c.params["action"] = e.Action
		c.limited = false // an action is not a message
		return c, nil
	case TypeSendPhoto:
		e, err := event.Decode[SendPhoto](ev)
		if err != nil {
			return outCall{}, err
		}
		return a.media(ev, s, TypeSendPhoto, "sendPhoto", "photo", e.ChatID, e.ThreadID, e.Photo,
			e.Caption, e.ParseMode, e.ReplyTo, e.Silent, e.Keyboard)
	case TypeSendDocument:
		e, err := event.Decode[SendDocument](ev)
		if err != nil {
			return outCall{}, err
		}
		return a.media(ev, s, TypeSendDocument, "sendDocument", "document", e.ChatID, e.ThreadID, e.Document,
			e.Caption, e.ParseMode, e.ReplyTo, e.Silent, e.Keyboard)
	}
	return outCall{}, fmt.Errorf("%w: %q", ErrUnsupportedEvent, ev.Type())
}

// target starts a call to the event's chat, or to the scope's chat and
// topic when the event names none.
func (a *Adapter) target(_ event.Event, typ, method string, chat int64, thread int, s *scope.Scope) (outCall, error) {
	if chat == 0 && s != nil && s.Chat.ID != "" {
		id, err := strconv.ParseInt(s.Chat.ID, 10, 64)
		if err != nil {
			return outCall{}, fmt.Errorf("telegram: scope %s has chat id %q: %w", s, s.Chat.ID, err)
		}
		chat = id
		if thread == 0 && s.Thread != "" {
			thread, _ = strconv.Atoi(s.Thread)
		}
	}
	if chat == 0 {
		return outCall{}, fmt.Errorf("%w: %s", ErrNoChat, typ)
	}
	p := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10)}
	p.AddNonZero("message_thread_id", thread)
	return outCall{event: typ, method: method, chat: chat, params: p, limited: true}, nil
}

func (a *Adapter) replyParams(p tgbotapi.Params, replyTo int, silent bool) {
	if replyTo != 0 {
		p.AddNonZero("reply_to_message_id", replyTo)
		// A reply to a message deleted meanwhile is still worth sending.
		p["allow_sending_without_reply"] = "true"
	}
	p.AddBool("disable_notification", silent)
}

func keyboard(p tgbotapi.Params, kb Keyboard) error {
	if len(kb) == 0 {
		return nil
	}
	m := tgbotapi.InlineKeyboardMarkup{InlineKeyboard: make([][]tgbotapi.InlineKeyboardButton, len(kb))}
	for i, row := range kb {
		for _, b := range row {
			btn := tgbotapi.InlineKeyboardButton{Text: b.Text}
			if b.URL != "" {
				btn.URL = &b.URL
			} else {
				data := b.Data
				btn.CallbackData = &data
			}
			m.InlineKeyboard[i] = append(m.InlineKeyboard[i], btn)
		}
	}
	return p.AddInterface("reply_markup", m)
}

func (a *Adapter) media(ev event.Event, s *scope.Scope, typ, method, field string, chat int64, thread int,
	f InputFile, caption, parseMode string, replyTo int, silent bool, kb Keyboard) (outCall, error) {
	c, err := a.target(ev, typ, method, chat, thread, s)
	if err != nil {
		return c, err
	}
	data, err := a.fileData(f)
	if err != nil {
		return c, err
	}
	c.files = []tgbotapi.RequestFile{{Name: field, Data: data}}
	if !data.NeedsUpload() {
		c.params[field], c.files = data.SendData(), nil
	}
	c.params.AddNonEmpty("caption", caption)
	c.params.AddNonEmpty("parse_mode", parseMode)
	a.replyParams(c.params, replyTo, silent)
	return c, keyboard(c.params, kb)
}

// fileData picks the one source an InputFile names. A path must lie under
// upload_dir: outbound events may come from other processes through the
// channel layer, and must not make the bot send arbitrary local files.
func (a *Adapter) fileData(f InputFile) (tgbotapi.RequestFileData, error) {
	var set []tgbotapi.RequestFileData
	if len(f.Bytes) > 0 {
		name := f.Name
		if name == "" {
			name = "file"
		}
		set = append(set, tgbotapi.FileBytes{Name: name, Bytes: f.Bytes})
	}
	if f.Path != "" {
		p, err := a.uploadPath(f.Path)
		if err != nil {
			return nil, err
		}
		set = append(set, tgbotapi.FilePath(p))
	}
	if f.URL != "" {
		set = append(set, tgbotapi.FileURL(f.URL))
	}
	if f.FileID != "" {
		set = append(set, tgbotapi.FileID(f.FileID))
	}
	if len(set) != 1 {
		return nil, fmt.Errorf("%w: set exactly one of bytes, path, url and file_id (%d set)", ErrBadFile, len(set))
	}
	return set[0], nil
}

func (a *Adapter) uploadPath(p string) (string, error) {
	if a.cfg.UploadDir == "" {
		return "", fmt.Errorf("%w: uploads by path need upload_dir", ErrBadFile)
	}
	dir, err := filepath.Abs(a.cfg.UploadDir)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadFile, err)
	}
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, full)
	}
	full = filepath.Clean(full)
	if rel, err := filepath.Rel(dir, full); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %q is outside upload_dir", ErrBadFile, p)
	}
	return full, nil
}

// do makes c under the rate limits, retrying what may succeed later: a
// 429 after its retry_after (pausing the chat, or the bot for calls to no
// chat), 5xx and network errors with exponential backoff up to
// retry.max_attempts. Anything else is returned at once.
func (a *Adapter) do(ctx context.Context, c outCall) error {
	backoff := a.cfg.Retry.MinBackoff
	for attempt := 1; ; attempt++ {
		var err error
		if c.limited {
			err = a.lim.wait(ctx, c.chat)
		} else {
			err = a.lim.waitGlobal(ctx)
		}
		if err == nil {
			err = a.waitShared(ctx, c)
		}
		if err != nil {
			return fmt.Errorf("telegram: %s waiting for its rate limit slot: %w", c.method, err)
		}
		err = a.api.call(ctx, c.method, c.params, c.files, nil)
		if c.limited {
			a.lim.settle(c.chat)
			a.settleShared(ctx, c)
		}
		if err == nil {
			return nil
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		switch {
		case ctx.Err() != nil:
			return err
		case isAPI && ae.Code == 429:
			ra := ae.RetryAfter
			if ra <= 0 {
				ra = a.cfg.Retry.MinBackoff
			}
			if c.chat != 0 {
				a.lim.pauseChat(c.chat, ra)
			} else {
				a.lim.pauseBot(ra)
			}
			a.pauseShared(ctx, c, ra)
			a.log.Warn("telegram: flood control; pausing", "adapter", a.cfg.Name, "method", c.method,
				"chat", c.chat, "retry_after", ra)
			attempt-- // a 429 is not a failure: it is retried for as long as ctx lasts
			// The wait for retry_after is the limiter's, at the top of the
			// loop, which reports it.
			a.observe().Retry()
			continue
		case isAPI && !ae.retryable():
			return err
		case attempt >= a.cfg.Retry.MaxAttempts:
			return fmt.Errorf("telegram: %s failed %d times: %w", c.method, attempt, err)
		}
		a.log.Warn("telegram: call failed; retrying", "adapter", a.cfg.Name, "method", c.method,
			"attempt", attempt, "backoff", backoff, "err", err)
		if err := adapters.Sleep(ctx, a.clock, backoff); err != nil {
			return fmt.Errorf("telegram: %s retry: %w", c.method, err)
		}
		a.observe().Retry()
		backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
	}
}
