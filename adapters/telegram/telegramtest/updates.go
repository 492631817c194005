package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// stored is one update not yet confirmed by the bot.
type stored struct {
	id     int
	kind   string // "message", "callback_query", ...
	chat   int64  // the chat it belongs to, 0 if none: a webhook sends one chat's updates in order
	raw    json.RawMessage
	handed bool // returned by getUpdates or posted to the webhook at least once
}

// queue holds the updates Telegram keeps until the bot confirms them.
type queue struct {
	next      int
	ups       []stored
	confirmed map[int64]int // updates confirmed, by chat
}

// forgetBelow drops the updates a getUpdates offset confirms.
func (q *queue) forgetBelow(offset int) {
	i := 0
	for i < len(q.ups) && q.ups[i].id < offset {
		q.confirm(q.ups[i])
		i++
	}
	q.ups = q.ups[i:]
}

// confirm counts u as confirmed by the bot.
func (q *queue) confirm(u stored) {
	if q.confirmed == nil {
		q.confirmed = map[int64]int{}
	}
	q.confirmed[u.chat]++
}

// Confirmed returns how many updates of chat the bot confirmed: by a
// getUpdates offset above them, or by answering their webhook request
// with a 2xx. Updates dropped unconfirmed (drop_pending_updates, a
// negative offset) do not count.
func (s *Server) Confirmed(chat int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.confirmed[chat]
}

func (q *queue) take(limit int, allowed []string) []json.RawMessage {
	var out []json.RawMessage
	for i := range q.ups {
		if len(out) == limit {
			break
		}
		if u := &q.ups[i]; len(allowed) == 0 || slices.Contains(allowed, u.kind) {
			u.handed = true
			out = append(out, u.raw)
		}
	}
	return out
}

// chatOfUpdate finds the chat an update's payload belongs to: its chat,
// its message's chat (a callback query), or its sender.
func chatOfUpdate(body []byte) int64 {
	var p struct {
		Chat    *struct{ ID int64 } `json:"chat"`
		Message *struct {
			Chat struct{ ID int64 } `json:"chat"`
		} `json:"message"`
		From *struct{ ID int64 } `json:"from"`
	}
	if json.Unmarshal(body, &p) != nil {
		return 0
	}
	switch {
	case p.Chat != nil:
		return p.Chat.ID
	case p.Message != nil:
		return p.Message.Chat.ID
	case p.From != nil:
		return p.From.ID
	}
	return 0
}

// poller is a getUpdates call waiting for updates.
type poller struct{ superseded bool }

// AddUpdate queues an update of the given kind ("message",
// "channel_post", "poll", ...) whose payload is marshalled to JSON, and
// returns its update_id.
func (s *Server) AddUpdate(kind string, payload any) int {
	body, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("telegramtest: AddUpdate: %v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.q.next
	s.q.next++
	raw := fmt.Appendf(nil, `{"update_id":%d,%q:%s}`, id, kind, body)
	s.q.ups = append(s.q.ups, stored{id: id, kind: kind, chat: chatOfUpdate(body), raw: raw})
	s.notifyLocked()
	return id
}

// AwaitPoll waits until a getUpdates call is waiting for updates: a long
// poll in flight, which Drop then fails.
func (s *Server) AwaitPoll(timeout time.Duration) error {
	deadline := time.After(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.poll == nil {
		if !s.waitLocked(deadline) {
			return fmt.Errorf("telegramtest: no long poll waiting after %v", timeout)
		}
	}
	return nil
}

// Pending returns how many updates the bot has not confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q.ups)
}

// InFlight returns how many updates were handed to the bot (by getUpdates
// or a webhook request) and are not yet confirmed: those a bot killed now
// may have handled without Telegram knowing.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, u := range s.q.ups {
		if u.handed {
			n++
		}
	}
	return n
}

// Offsets returns the offset of every getUpdates call so far, in order
// (0 when the call sent none).
func (s *Server) Offsets() []int {
	var out []int
	for _, c := range s.Calls("getUpdates") {
		off, _ := strconv.Atoi(c.Params.Get("offset"))
		out = append(out, off)
	}
	return out
}

// AwaitConfirmed waits until every update up to and including id was
// confirmed: by a getUpdates offset above it or a webhook's 2xx.
func (s *Server) AwaitConfirmed(id int, timeout time.Duration) error {
	deadline := time.After(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.q.ups) > 0 && s.q.ups[0].id <= id {
		if !s.waitLocked(deadline) {
			return fmt.Errorf("telegramtest: update %d not confirmed after %v", s.q.ups[0].id, timeout)
		}
	}
	return nil
}

// ChatFor returns the chat the fake uses for id: positive ids are private
// chats with the user of the same id, negative ids are supergroups.
func ChatFor(id int64) map[string]any {
	if id > 0 {
		return map[string]any{"id": id, "type": "private", "first_name": fmt.Sprintf("User%d", id), "username": fmt.Sprintf("user%d", id)}
	}
	return map[string]any{"id": id, "type": "supergroup", "title": groupTitle(id), "is_forum": true}
}

// UserFor returns the user the fake uses for id.
func UserFor(id int64) map[string]any {
	return map[string]any{"id": id, "is_bot": false, "first_name": fmt.Sprintf("User%d", id),
		"last_name": "Test", "username": fmt.Sprintf("user%d", id), "language_code": "en"}
}

// message builds a text message as Telegram sends it, with a bot_command
// entity when the text starts with "/". Entity offsets count UTF-16 code
// units, as the Bot API's do.
func (s *Server) message(chat, user int64, thread int, text string) map[string]any {
	s.mu.Lock()
	id := s.nextMsg
	s.nextMsg++
	s.mu.Unlock()
	m := map[string]any{"message_id": id, "from": UserFor(user), "chat": ChatFor(chat),
		"date": time.Now().Unix(), "text": text}
	if thread != 0 {
		m["message_thread_id"] = thread
		m["is_topic_message"] = true
	}
	if len(text) > 1 && text[0] == '/' {
		n := 0
		for _, r := range text {
			if r == ' ' || r == '\n' {
				break
			}
			n += len(utf16.Encode([]rune{r}))
		}
		m["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": n}}
	}
	return m
}

// Text queues a text message from user in chat and returns its update_id.
func (s *Server) Text(chat, user int64, text string) int {
	return s.AddUpdate("message", s.message(chat, user, 0, text))
}

// TopicText queues a text message in a forum topic of a supergroup.
func (s *Server) TopicText(chat int64, thread int, user int64, text string) int {
	return s.AddUpdate("message", s.message(chat, user, thread, text))
}

// EditedText queues an edit of message messageID.
func (s *Server) EditedText(chat, user int64, messageID int, text string) int {
	m := s.message(chat, user, 0, text)
	m["message_id"] = messageID
	m["edit_date"] = time.Now().Unix()
	return s.AddUpdate("edited_message", m)
}

// Callback queues a press of an inline keyboard button with data on the
// bot's message messageID in chat.
func (s *Server) Callback(chat, user int64, messageID int, data string) int {
	s.mu.Lock()
	qid := strconv.Itoa(s.q.next * 7919)
	s.mu.Unlock()
	return s.AddUpdate("callback_query", map[string]any{
		"id": qid, "from": UserFor(user), "chat_instance": "ci" + strconv.FormatInt(chat, 10), "data": data,
		"message": map[string]any{"message_id": messageID, "from": s.bot, "chat": ChatFor(chat), "date": time.Now().Unix(), "text": "menu"},
	})
}

func (s *Server) getUpdates(r *http.Request, c *Call) reply {
	offset, _ := strconv.Atoi(c.Params.Get("offset"))
	limit, _ := strconv.Atoi(c.Params.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(c.Params.Get("timeout"))
	var allowed []string
	if a := c.Params.Get("allowed_updates"); a != "" {
		_ = json.Unmarshal([]byte(a), &allowed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Time = s.now()
	rep := s.pollLocked(r, offset, limit, timeout, allowed)
	c.Status = rep.status
	if rep.status == http.StatusConflict {
		s.conflict++
	}
	if rep.status == http.StatusOK {
		s.okCalls["getUpdates"]++
	}
	s.calls = append(s.calls, *c)
	s.notifyLocked()
	return rep
}

func (s *Server) pollLocked(r *http.Request, offset, limit, timeout int, allowed []string) reply {
	if rep, scripted := s.scriptedLocked("getUpdates"); scripted {
		return rep
	}
	if s.hook != nil {
		return Reply{Code: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}.reply()
	}
	switch {
	case offset > 0:
		s.q.forgetBelow(offset)
	case offset < 0:
		if keep := -offset; keep < len(s.q.ups) {
			s.q.ups = s.q.ups[len(s.q.ups)-keep:]
		}
	}
	s.notifyLocked() // AwaitConfirmed learns of the confirmation now, not when the poll ends
	if s.poll != nil {
		s.poll.superseded = true // Telegram ends the older of two polls with 409
	}
	me := &poller{}
	s.poll = me
	s.notifyLocked() // AwaitPoll learns of the poll
	defer func() {
		if s.poll == me {
			s.poll = nil
		}
	}()
	deadline := time.After(time.Duration(timeout) * time.Second)
	for {
		if me.superseded {
			return Conflict().reply()
		}
		if ups := s.q.take(limit, allowed); len(ups) > 0 || timeout <= 0 || s.closed {
			return updatesReply(ups)
		}
		ch := s.changedLocked()
		s.mu.Unlock()
		select {
		case <-ch:
			s.mu.Lock()
		case <-deadline:
			s.mu.Lock()
			timeout = 0
		case <-r.Context().Done():
			s.mu.Lock()
			return updatesReply(nil)
		}
	}
}

// updatesReply answers getUpdates with the stored updates as they are,
// without decoding and encoding them again.
func updatesReply(ups []json.RawMessage) reply {
	n := len(`{"ok":true,"result":[]}`) + len(ups)
	for _, u := range ups {
		n += len(u)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"ok":true,"result":[`...)
	for i, u := range ups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, u...)
	}
	b = append(b, "]}"...)
	return reply{status: http.StatusOK, raw: b}
}

// chatOf returns the chat of a message the fake sends: the chat of
// ChatFor, with the fields a sent message's chat carries.
func chatOf(id int64) tgbotapi.Chat {
	if id > 0 {
		return tgbotapi.Chat{ID: id, Type: "private"}
	}
	return tgbotapi.Chat{ID: id, Type: "supergroup", Title: groupTitle(id)}
}

func groupTitle(id int64) string { return "Group " + strconv.FormatInt(-id, 10) }
