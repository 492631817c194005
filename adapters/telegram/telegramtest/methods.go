package telegramtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Reply is a scripted Bot API error.
type Reply struct {
	Code        int
	Description string
	// RetryAfter is sent as parameters.retry_after (seconds) when set.
	RetryAfter int
}

func (r Reply) reply() reply {
	body := errorBody{ErrorCode: r.Code, Description: r.Description}
	if r.RetryAfter > 0 {
		body.Parameters = &responseParameters{RetryAfter: r.RetryAfter}
	}
	return reply{status: r.Code, body: body}
}

// errorBody is the envelope of a failed call, its fields in the Bot API's
// order.
type errorBody struct {
	OK          bool                `json:"ok"`
	ErrorCode   int                 `json:"error_code"`
	Description string              `json:"description"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

type responseParameters struct {
	RetryAfter int `json:"retry_after"`
}

// sentMessage is a message the bot sent, as the Bot API returns it.
type sentMessage struct {
	MessageID       int                            `json:"message_id"`
	From            tgbotapi.User                  `json:"from"`
	Chat            tgbotapi.Chat                  `json:"chat"`
	Date            int64                          `json:"date"`
	EditDate        int64                          `json:"edit_date,omitempty"`
	MessageThreadID int                            `json:"message_thread_id,omitempty"`
	IsTopicMessage  bool                           `json:"is_topic_message,omitempty"`
	Text            string                         `json:"text,omitempty"`
	Photo           []fileMeta                     `json:"photo,omitempty"`
	Document        *fileMeta                      `json:"document,omitempty"`
	Caption         string                         `json:"caption,omitempty"`
	ReplyMarkup     *tgbotapi.InlineKeyboardMarkup `json:"reply_markup,omitempty"`
}

type fileMeta struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int    `json:"file_size"`
	Width        int    `json:"width,omitempty"`
	Height       int    `json:"height,omitempty"`
}

// TooManyRequests is Telegram's flood-control answer.
func TooManyRequests(retryAfter int) Reply {
	return Reply{Code: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), RetryAfter: retryAfter}
}

// ServerError is a 500 from the Bot API.
func ServerError() Reply { return Reply{Code: 500, Description: "Internal Server Error"} }

// BadGateway is the 502 Telegram's front end answers while the API restarts.
func BadGateway() Reply { return Reply{Code: 502, Description: "Bad Gateway"} }

// Unauthorized is the answer to a revoked or wrong token.
func Unauthorized() Reply { return Reply{Code: 401, Description: "Unauthorized"} }

// Forbidden is the answer to a message to a user who blocked the bot.
func Forbidden() Reply {
	return Reply{Code: 403, Description: "Forbidden: bot was blocked by the user"}
}

// ChatNotFound is the answer to a message to an unknown chat.
func ChatNotFound() Reply { return Reply{Code: 400, Description: "Bad Request: chat not found"} }

// Conflict is the answer to a getUpdates superseded by another.
func Conflict() Reply {
	return Reply{Code: 409, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
}

// Fail makes the next n calls of method fail with r, whatever their chat.
func (s *Server) Fail(method string, n int, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.script[method] = append(s.script[method], r)
	}
}

// Block makes every message to chat fail with 403 "Forbidden: bot was
// blocked by the user", as when the user blocked the bot.
func (s *Server) Block(chat int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chat] = true
}

// Unblock undoes Block: the user unblocked the bot.
func (s *Server) Unblock(chat int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocked, chat)
}

// ForgetChat makes every message to chat fail with 400 chat not found.
func (s *Server) ForgetChat(chat int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unknown[chat] = true
}

func (s *Server) scriptedLocked(method string) (reply, bool) {
	if q := s.script[method]; len(q) > 0 {
		s.script[method] = q[1:]
		return q[0].reply(), true
	}
	return reply{}, false
}

func bad(desc string) reply { return Reply{Code: 400, Description: "Bad Request: " + desc}.reply() }

// call answers every method but getUpdates, with s.mu held.
func (s *Server) call(c *Call) reply {
	if rep, scripted := s.scriptedLocked(c.Method); scripted {
		return rep
	}
	p := c.Params
	switch c.Method {
	case "getMe":
		return ok(s.bot)
	case "setWebhook":
		return s.setWebhookLocked(c)
	case "deleteWebhook":
		s.stopHookLocked()
		if p.Get("drop_pending_updates") == "true" {
			s.q.ups = nil
		}
		return ok(true)
	case "getWebhookInfo":
		info := map[string]any{"url": "", "pending_update_count": len(s.q.ups)}
		if s.hook != nil {
			info["url"] = s.hook.url
		}
		return ok(info)
	case "answerCallbackQuery":
		if p.Get("callback_query_id") == "" {
			return bad("query is too old and response timeout expired or query ID is invalid")
		}
		return ok(true)
	}
	chat, err := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	if err != nil || chat == 0 {
		if c.Method == "editMessageText" && p.Get("inline_message_id") != "" {
			return ok(true)
		}
		if _, known := map[string]bool{"sendMessage": true, "sendChatAction": true, "editMessageText": true,
			"sendPhoto": true, "sendDocument": true}[c.Method]; !known {
			return Reply{Code: 404, Description: "Not Found"}.reply()
		}
		return bad("chat_id is empty")
	}
	switch {
	case s.blocked[chat]:
		return Forbidden().reply()
	case s.unknown[chat]:
		return ChatNotFound().reply()
	}
	if s.flood != nil && messages[c.Method] {
		if ra := s.flood.checkLocked(chat, s.now()); ra > 0 {
			return TooManyRequests(ra).reply()
		}
	}
	msg := sentMessage{MessageID: s.nextMsg, From: s.bot, Chat: chatOf(chat), Date: time.Now().Unix()}
	if th, _ := strconv.Atoi(p.Get("message_thread_id")); th != 0 {
		msg.MessageThreadID, msg.IsTopicMessage = th, true
	}
	if rm := p.Get("reply_markup"); rm != "" {
		msg.ReplyMarkup = &tgbotapi.InlineKeyboardMarkup{}
		if json.Unmarshal([]byte(rm), msg.ReplyMarkup) != nil {
			return bad("can't parse reply keyboard markup JSON object")
		}
	}
	switch c.Method {
	case "sendMessage", "editMessageText":
		if p.Get("text") == "" {
			return bad("message text is empty")
		}
		msg.Text = p.Get("text")
		if c.Method == "editMessageText" {
			id, _ := strconv.Atoi(p.Get("message_id"))
			if id == 0 {
				return bad("message identifier is not specified")
			}
			msg.MessageID, msg.EditDate = id, time.Now().Unix()
			c.MessageID = id
			return ok(msg)
		}
	case "sendChatAction":
		if p.Get("action") == "" {
			return bad("wrong parameter action in request")
		}
		return ok(true)
	case "sendPhoto", "sendDocument":
		field := map[string]string{"sendPhoto": "photo", "sendDocument": "document"}[c.Method]
		fileID := p.Get(field)
		size := 0
		if f, up := c.Files[field]; up {
			fileID, size = fmt.Sprintf("file-%d", s.nextMsg), len(f.Data)
		}
		if fileID == "" {
			return bad("there is no " + field + " in the request")
		}
		meta := fileMeta{FileID: fileID, FileUniqueID: "u" + fileID, FileSize: size}
		if field == "photo" {
			meta.Width, meta.Height = 1, 1
			msg.Photo = []fileMeta{meta}
		} else {
			msg.Document = &meta
		}
		msg.Caption = p.Get("caption")
	default:
		return Reply{Code: 404, Description: "Not Found"}.reply()
	}
	c.MessageID = msg.MessageID
	s.nextMsg++
	return ok(msg)
}

// AwaitWebhook waits until the bot set a webhook and returns its URL.
func (s *Server) AwaitWebhook(timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.hook == nil {
		if !s.waitLocked(deadline) {
			return "", fmt.Errorf("telegramtest: no webhook set after %v", timeout)
		}
	}
	return s.hook.url, nil
}
