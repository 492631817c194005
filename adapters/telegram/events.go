package telegram

import (
	"encoding/json"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Event type names.
const (
	TypeMessage       = "telegram.message"
	TypeEditedMessage = "telegram.edited_message"
	TypeCallbackQuery = "telegram.callback_query"
	TypeUpdate        = "telegram.update"
	TypeDisconnect    = "telegram.disconnect"
	TypeError         = "telegram.error"
	TypeSend          = "telegram.send"
	// TypeSay is the chat vocabulary's event.Say, which Send understands
	// too: its text goes to the scope's chat (and forum topic).
	TypeSay            = "chat.say"
	TypeEdit           = "telegram.edit"
	TypeAnswerCallback = "telegram.answer_callback"
	TypeChatAction     = "telegram.chat_action"
	TypeSendPhoto      = "telegram.send_photo"
	TypeSendDocument   = "telegram.send_document"
)

// User is a Telegram user, as the Bot API names its fields.
type User struct {
	ID           int64  `msgpack:"id"`
	IsBot        bool   `msgpack:"is_bot,omitempty"`
	FirstName    string `msgpack:"first_name"`
	LastName     string `msgpack:"last_name,omitempty"`
	Username     string `msgpack:"username,omitempty"`
	LanguageCode string `msgpack:"language_code,omitempty"`
}

// Chat is a Telegram chat. Type is "private", "group", "supergroup" or
// "channel".
type Chat struct {
	ID       int64  `msgpack:"id"`
	Type     string `msgpack:"type"`
	Title    string `msgpack:"title,omitempty"`
	Username string `msgpack:"username,omitempty"`
}

// File describes a photo size, document or voice note of a message. The
// file itself stays on Telegram's servers; FileID fetches or resends it.
type File struct {
	FileID       string `msgpack:"file_id"`
	FileUniqueID string `msgpack:"file_unique_id"`
	FileName     string `msgpack:"file_name,omitempty"`
	MimeType     string `msgpack:"mime_type,omitempty"`
	FileSize     int64  `msgpack:"file_size,omitempty"`
	Width        int    `msgpack:"width,omitempty"`
	Height       int    `msgpack:"height,omitempty"`
	Duration     int    `msgpack:"duration,omitempty"`
}

// Message is a new message in a chat: "telegram.message". It is an
// event.ChatMessage, so chat consumers and the command router serve it.
type Message struct {
	UpdateID  int64 `msgpack:"update_id"`
	MessageID int   `msgpack:"message_id"`
	Chat      Chat  `msgpack:"chat"`
	// ThreadID is the forum topic, set only for messages in a topic.
	ThreadID int    `msgpack:"message_thread_id,omitempty"`
	From     User   `msgpack:"from"`
	Date     int64  `msgpack:"date"`
	Text     string `msgpack:"text,omitempty"`
	Caption  string `msgpack:"caption,omitempty"`
	// Command is the bot command the message starts with, without "/" and
	// without the "@bot" mention, which goes to Mention; Args is the rest
	// of the text, trimmed. Both are parsed from the message's entities,
	// whose offsets count UTF-16 code units.
	Command string `msgpack:"command,omitempty"`
	Mention string `msgpack:"mention,omitempty"`
	Args    string `msgpack:"args,omitempty"`
	// ReplyToMessageID is the message this one answers, if any.
	ReplyToMessageID int    `msgpack:"reply_to_message_id,omitempty"`
	Photo            []File `msgpack:"photo,omitempty"`
	Document         *File  `msgpack:"document,omitempty"`
	Voice            *File  `msgpack:"voice,omitempty"`
	// Raw is the whole update as Telegram sent it, with every field this
	// type and the library lack (reactions, business messages, ...).
	Raw json.RawMessage `msgpack:"raw,omitempty"`
}

// Type implements event.Event.
func (Message) Type() string { return TypeMessage }

// ChatText returns the text, or the caption of a media message.
func (m Message) ChatText() string {
	if m.Text != "" {
		return m.Text
	}
	return m.Caption
}

// ChatReply returns a Send that answers m as a reply, in its chat and
// forum topic.
func (m Message) ChatReply(text string) event.Event {
	return Send{ChatID: m.Chat.ID, ThreadID: m.ThreadID, Text: text, ReplyTo: m.MessageID}
}

// EditedMessage is a new version of a message: "telegram.edited_message".
// It has Message's fields but is deliberately not a chat message, so that
// a bot does not answer every edit as a new message.
type EditedMessage Message

// Type implements event.Event.
func (EditedMessage) Type() string { return TypeEditedMessage }

// CallbackQuery is a press of an inline keyboard button:
// "telegram.callback_query". Answer it with AnswerCallback, or Telegram
// shows a progress indicator on the button until it times out.
type CallbackQuery struct {
	UpdateID int64  `msgpack:"update_id"`
	ID       string `msgpack:"id"`
	From     User   `msgpack:"from"`
	// Chat, ThreadID and MessageID locate the message with the keyboard;
	// they are empty for a message sent in inline mode.
	Chat            Chat            `msgpack:"chat"`
	ThreadID        int             `msgpack:"message_thread_id,omitempty"`
	MessageID       int             `msgpack:"message_id,omitempty"`
	InlineMessageID string          `msgpack:"inline_message_id,omitempty"`
	ChatInstance    string          `msgpack:"chat_instance"`
	Data            string          `msgpack:"data,omitempty"`
	GameShortName   string          `msgpack:"game_short_name,omitempty"`
	Raw             json.RawMessage `msgpack:"raw,omitempty"`
}

// Type implements event.Event.
func (CallbackQuery) Type() string { return TypeCallbackQuery }

// Answer returns the AnswerCallback for q.
func (q CallbackQuery) Answer(text string, alert bool) AnswerCallback {
	return AnswerCallback{CallbackQueryID: q.ID, Text: text, ShowAlert: alert}
}

// Update is any other kind of update ("channel_post", "inline_query",
// "my_chat_member", "message_reaction", ...): "telegram.update". Kind is
// the update's field name; Raw holds it whole.
type Update struct {
	UpdateID int64           `msgpack:"update_id"`
	Kind     string          `msgpack:"kind"`
	Chat     Chat            `msgpack:"chat"`
	From     User            `msgpack:"from"`
	Raw      json.RawMessage `msgpack:"raw,omitempty"`
}

// Type implements event.Event.
func (Update) Type() string { return TypeUpdate }

// Disconnect ends a conversation's scope: "telegram.disconnect".
type Disconnect struct {
	Reason scope.Reason `msgpack:"reason"`
}

// Type implements event.Event.
func (Disconnect) Type() string { return TypeDisconnect }

// EndReason implements scope.Final.
func (d Disconnect) EndReason() scope.Reason { return d.Reason }

// Error reports an outbound call that Telegram refused (chat not found,
// bot blocked, a malformed request, a failure that outlasted the retries):
// "telegram.error". It is posted to the scope whose instance sent the
// event only when the config asks for it (error_events); by default a
// refusal is only the *adapters.RefusedError that Send returns.
type Error struct {
	// Event is the type of the outbound event that failed; Method the Bot
	// API method it became.
	Event       string `msgpack:"event"`
	Method      string `msgpack:"method"`
	Code        int    `msgpack:"code"`
	Description string `msgpack:"description"`
	ChatID      int64  `msgpack:"chat_id,omitempty"`
}

// Type implements event.Event.
func (Error) Type() string { return TypeError }
