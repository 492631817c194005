package telegram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// inbound is a decoded update: its event and the conversation it belongs
// to.
type inbound struct {
	id     int64
	ev     event.Event
	key    string
	chat   Chat
	user   User
	thread int
}

// noTopics is the topics of an update in no forum topic; never written.
var noTopics topics

// topics holds the forum fields the library's types lack.
type topics struct {
	Message       *topic `json:"message"`
	EditedMessage *topic `json:"edited_message"`
	CallbackQuery *struct {
		Message *topic `json:"message"`
	} `json:"callback_query"`
}

type topic struct {
	ThreadID int  `json:"message_thread_id"`
	IsTopic  bool `json:"is_topic_message"`
}

func (t *topic) thread() int {
	if t != nil && t.IsTopic {
		return t.ThreadID
	}
	return 0
}

// decodeUpdate turns an update's JSON into its event and key. Every update
// decodes to some event (the kinds this adapter does not model become a
// telegram.update); only JSON that is not an update object is an error.
// raw is kept, not copied, in the event.
func decodeUpdate(raw []byte, keyBy string) (inbound, error) {
	var u tgbotapi.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return inbound{}, fmt.Errorf("%w: %v", ErrBadUpdate, err)
	}
	if u.UpdateID <= 0 {
		return inbound{}, fmt.Errorf("%w: no update_id", ErrBadUpdate)
	}
	// Most updates are in no forum topic: decode the topic fields only
	// when there are some, and allocate them only then.
	tp := &noTopics
	if bytes.Contains(raw, []byte(`"message_thread_id"`)) {
		tp = new(topics)
		_ = json.Unmarshal(raw, tp) // the same JSON decoded once already
	}
	in := inbound{id: int64(u.UpdateID)}
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		m := newMessage(u.Message, tp.Message.thread(), raw, in.id)
		in.ev, in.chat, in.user, in.thread = m, m.Chat, m.From, m.ThreadID
	case u.EditedMessage != nil && u.EditedMessage.Chat != nil:
		m := newMessage(u.EditedMessage, tp.EditedMessage.thread(), raw, in.id)
		in.ev, in.chat, in.user, in.thread = EditedMessage(m), m.Chat, m.From, m.ThreadID
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		cq := CallbackQuery{UpdateID: in.id, ID: q.ID, From: user(q.From), InlineMessageID: q.InlineMessageID,
			ChatInstance: q.ChatInstance, Data: q.Data, GameShortName: q.GameShortName, Raw: raw}
		if q.Message != nil && q.Message.Chat != nil {
			cq.Chat, cq.MessageID = chat(q.Message.Chat), q.Message.MessageID
			if tp.CallbackQuery != nil {
				cq.ThreadID = tp.CallbackQuery.Message.thread()
			}
		} else {
			// An inline-mode message has no chat: the user's private chat
			// (whose id is the user's) is the conversation.
			cq.Chat = Chat{ID: cq.From.ID, Type: "private"}
		}
		in.ev, in.chat, in.user, in.thread = cq, cq.Chat, cq.From, cq.ThreadID
	default:
		up := otherUpdate(u, raw)
		up.UpdateID = in.id
		in.ev, in.chat, in.user = up, up.Chat, up.From
	}
	in.key = conversationKey(in.chat, in.user, in.thread, keyBy)
	return in, nil
}

// conversationKey files a conversation: the chat, its forum topic, and in
// group chats keyed by member, the user.
func conversationKey(c Chat, u User, thread int, keyBy string) string {
	var arr [64]byte // three ids and two separators fit: one allocation, the key's
	b := arr[:0]
	switch {
	case c.ID != 0:
		b = strconv.AppendInt(b, c.ID, 10)
	case u.ID != 0:
		b = strconv.AppendInt(b, u.ID, 10)
	default:
		return "bot" // updates about no chat or user: polls
	}
	if thread != 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(thread), 10)
	}
	if keyBy == KeyChatUser && c.Type != "private" && c.Type != "" && u.ID != 0 {
		b = append(b, '/')
		b = strconv.AppendInt(b, u.ID, 10)
	}
	return string(b)
}

func newMessage(m *tgbotapi.Message, thread int, raw []byte, id int64) Message {
	out := Message{UpdateID: id, MessageID: m.MessageID, Chat: chat(m.Chat), ThreadID: thread,
		From: user(m.From), Date: int64(m.Date), Text: m.Text, Caption: m.Caption, Raw: raw}
	if m.From == nil && m.SenderChat != nil {
		// An anonymous group admin or a channel: the chat speaks.
		out.From = User{ID: m.SenderChat.ID, FirstName: m.SenderChat.Title, Username: m.SenderChat.UserName}
	}
	out.Command, out.Mention, out.Args = parseCommand(m.Text, m.Entities)
	if m.ReplyToMessage != nil {
		out.ReplyToMessageID = m.ReplyToMessage.MessageID
	}
	for _, p := range m.Photo {
		out.Photo = append(out.Photo, File{FileID: p.FileID, FileUniqueID: p.FileUniqueID,
			FileSize: int64(p.FileSize), Width: p.Width, Height: p.Height})
	}
	if d := m.Document; d != nil {
		out.Document = &File{FileID: d.FileID, FileUniqueID: d.FileUniqueID, FileName: d.FileName,
			MimeType: d.MimeType, FileSize: int64(d.FileSize)}
	}
	if v := m.Voice; v != nil {
		out.Voice = &File{FileID: v.FileID, FileUniqueID: v.FileUniqueID, MimeType: v.MimeType,
			FileSize: int64(v.FileSize), Duration: v.Duration}
	}
	return out
}

// parseCommand finds the bot_command entity at the start of text. Entity
// offsets and lengths count UTF-16 code units, not bytes: the library's
// own Command() slices bytes and panics or cuts runes on such text.
func parseCommand(text string, entities []tgbotapi.MessageEntity) (cmd, mention, args string) {
	if len(entities) == 0 || entities[0].Type != "bot_command" || entities[0].Offset != 0 || entities[0].Length < 2 {
		return "", "", ""
	}
	end := utf16Index(text, entities[0].Length)
	if end < 0 || text[0] != '/' {
		return "", "", ""
	}
	cmd, mention, _ = strings.Cut(text[1:end], "@")
	return cmd, mention, strings.TrimSpace(text[end:])
}

// utf16Index returns the byte index in s after n UTF-16 code units, or -1
// if s is shorter or n falls inside a surrogate pair.
func utf16Index(s string, n int) int {
	units := 0
	for i, r := range s {
		if units == n {
			return i
		}
		if units > n {
			return -1
		}
		if r == utf8.RuneError {
			return -1
		}
		units += utf16.RuneLen(r)
	}
	if units == n {
		return len(s)
	}
	return -1
}

func user(u *tgbotapi.User) User {
	if u == nil {
		return User{}
	}
	return User{ID: u.ID, IsBot: u.IsBot, FirstName: u.FirstName, LastName: u.LastName,
		Username: u.UserName, LanguageCode: u.LanguageCode}
}

func chat(c *tgbotapi.Chat) Chat {
	if c == nil {
		return Chat{}
	}
	title := c.Title
	if title == "" && c.Type == "private" {
		title = strings.TrimSpace(c.FirstName + " " + c.LastName)
	}
	return Chat{ID: c.ID, Type: c.Type, Title: title, Username: c.UserName}
}

// otherUpdate names the kind of an update the adapter does not model and
// finds its chat and user where it has them.
func otherUpdate(u tgbotapi.Update, raw []byte) Update {
	up := Update{Raw: raw}
	switch {
	case u.ChannelPost != nil:
		up.Kind, up.Chat = "channel_post", chat(u.ChannelPost.Chat)
	case u.EditedChannelPost != nil:
		up.Kind, up.Chat = "edited_channel_post", chat(u.EditedChannelPost.Chat)
	case u.InlineQuery != nil:
		up.Kind, up.From = "inline_query", user(u.InlineQuery.From)
	case u.ChosenInlineResult != nil:
		up.Kind, up.From = "chosen_inline_result", user(u.ChosenInlineResult.From)
	case u.ShippingQuery != nil:
		up.Kind, up.From = "shipping_query", user(u.ShippingQuery.From)
	case u.PreCheckoutQuery != nil:
		up.Kind, up.From = "pre_checkout_query", user(u.PreCheckoutQuery.From)
	case u.PollAnswer != nil:
		up.Kind, up.From = "poll_answer", user(&u.PollAnswer.User)
	case u.Poll != nil:
		up.Kind = "poll"
	case u.MyChatMember != nil:
		up.Kind, up.Chat, up.From = "my_chat_member", chat(&u.MyChatMember.Chat), user(&u.MyChatMember.From)
	case u.ChatMember != nil:
		up.Kind, up.Chat, up.From = "chat_member", chat(&u.ChatMember.Chat), user(&u.ChatMember.From)
	case u.ChatJoinRequest != nil:
		up.Kind, up.Chat, up.From = "chat_join_request", chat(&u.ChatJoinRequest.Chat), user(&u.ChatJoinRequest.From)
	default:
		up.Kind, up.Chat, up.From = kindOf(raw)
	}
	return up
}

// kindOf reads an update kind the library does not know (reactions,
// business messages, ...) and the chat and user it names, if any.
func kindOf(raw []byte) (string, Chat, User) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return "unknown", Chat{}, User{}
	}
	kind := "unknown"
	for k := range fields {
		if k != "update_id" && (kind == "unknown" || k < kind) {
			kind = k // the smallest name: deterministic if there are several
		}
	}
	var body struct {
		Chat *tgbotapi.Chat `json:"chat"`
		From *tgbotapi.User `json:"from"`
		User *tgbotapi.User `json:"user"`
	}
	if v, ok := fields[kind]; ok {
		_ = json.Unmarshal(v, &body)
	}
	if body.From == nil {
		body.From = body.User
	}
	return kind, chat(body.Chat), user(body.From)
}

// newScope builds the scope of a conversation that starts with in.
func (a *Adapter) newScope(in inbound) func() *scope.Scope {
	return func() *scope.Scope {
		s := &scope.Scope{Type: Protocol, Adapter: a.cfg.Name, Bot: a.Bot(),
			Chat: scope.Chat{ID: strconv.FormatInt(in.chat.ID, 10), Type: in.chat.Type, Title: in.chat.Title}}
		if in.chat.ID == 0 {
			s.Chat.ID = ""
		}
		if in.user.ID != 0 {
			s.User = scope.User{ID: strconv.FormatInt(in.user.ID, 10),
				Name:     strings.TrimSpace(in.user.FirstName + " " + in.user.LastName),
				Username: in.user.Username, Language: in.user.LanguageCode}
		}
		if in.thread != 0 {
			s.Thread = strconv.Itoa(in.thread)
		}
		return s
	}
}
