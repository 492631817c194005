package telegram

// Outbound events. A zero ChatID means the chat of the scope that sends
// the event (and, when ThreadID is zero too, its forum topic); a push
// without a scope must name the chat.

// Button is an inline keyboard button: Data comes back in a
// CallbackQuery when pressed; a button with a URL opens it instead.
type Button struct {
	Text string `msgpack:"text"`
	Data string `msgpack:"callback_data,omitempty"`
	URL  string `msgpack:"url,omitempty"`
}

// Keyboard is an inline keyboard: rows of buttons.
type Keyboard [][]Button

// Send sends a text message: "telegram.send".
type Send struct {
	ChatID   int64  `msgpack:"chat_id,omitempty"`
	ThreadID int    `msgpack:"message_thread_id,omitempty"`
	Text     string `msgpack:"text"`
	// ParseMode is "MarkdownV2", "HTML" or "" for plain text.
	ParseMode string `msgpack:"parse_mode,omitempty"`
	// ReplyTo makes the message a reply; it is still sent if the message
	// it answers was deleted meanwhile.
	ReplyTo  int      `msgpack:"reply_to_message_id,omitempty"`
	Keyboard Keyboard `msgpack:"inline_keyboard,omitempty"`
	// Silent sends without a notification sound.
	Silent         bool `msgpack:"disable_notification,omitempty"`
	DisablePreview bool `msgpack:"disable_web_page_preview,omitempty"`
}

// Type implements event.Event.
func (Send) Type() string { return TypeSend }

// Edit replaces the text (and keyboard) of a message the bot sent:
// "telegram.edit". InlineMessageID edits a message sent in inline mode.
type Edit struct {
	ChatID          int64    `msgpack:"chat_id,omitempty"`
	MessageID       int      `msgpack:"message_id,omitempty"`
	InlineMessageID string   `msgpack:"inline_message_id,omitempty"`
	Text            string   `msgpack:"text"`
	ParseMode       string   `msgpack:"parse_mode,omitempty"`
	Keyboard        Keyboard `msgpack:"inline_keyboard,omitempty"`
}

// Type implements event.Event.
func (Edit) Type() string { return TypeEdit }

// AnswerCallback answers a CallbackQuery: "telegram.answer_callback".
// Text, if any, is shown as a notification, or as an alert with
// ShowAlert.
type AnswerCallback struct {
	CallbackQueryID string `msgpack:"callback_query_id"`
	Text            string `msgpack:"text,omitempty"`
	ShowAlert       bool   `msgpack:"show_alert,omitempty"`
	URL             string `msgpack:"url,omitempty"`
	CacheTime       int    `msgpack:"cache_time,omitempty"`
}

// Type implements event.Event.
func (AnswerCallback) Type() string { return TypeAnswerCallback }

// ChatAction shows a status such as "typing" or "upload_photo" in the
// chat for a few seconds: "telegram.chat_action".
type ChatAction struct {
	ChatID   int64  `msgpack:"chat_id,omitempty"`
	ThreadID int    `msgpack:"message_thread_id,omitempty"`
	Action   string `msgpack:"action"`
}

// Type implements event.Event.
func (ChatAction) Type() string { return TypeChatAction }

// InputFile names the file of a SendPhoto or SendDocument. Exactly one of
// Bytes (uploaded under Name), Path (a local file, uploaded; only under
// the configured upload_dir), URL (Telegram fetches it) or FileID (a file
// already on Telegram) is set.
type InputFile struct {
	Bytes  []byte `msgpack:"bytes,omitempty"`
	Name   string `msgpack:"name,omitempty"`
	Path   string `msgpack:"path,omitempty"`
	URL    string `msgpack:"url,omitempty"`
	FileID string `msgpack:"file_id,omitempty"`
}

// SendPhoto sends a photo: "telegram.send_photo".
type SendPhoto struct {
	ChatID    int64     `msgpack:"chat_id,omitempty"`
	ThreadID  int       `msgpack:"message_thread_id,omitempty"`
	Photo     InputFile `msgpack:"photo"`
	Caption   string    `msgpack:"caption,omitempty"`
	ParseMode string    `msgpack:"parse_mode,omitempty"`
	ReplyTo   int       `msgpack:"reply_to_message_id,omitempty"`
	Keyboard  Keyboard  `msgpack:"inline_keyboard,omitempty"`
	Silent    bool      `msgpack:"disable_notification,omitempty"`
}

// Type implements event.Event.
func (SendPhoto) Type() string { return TypeSendPhoto }

// SendDocument sends a file as a document: "telegram.send_document".
type SendDocument struct {
	ChatID    int64     `msgpack:"chat_id,omitempty"`
	ThreadID  int       `msgpack:"message_thread_id,omitempty"`
	Document  InputFile `msgpack:"document"`
	Caption   string    `msgpack:"caption,omitempty"`
	ParseMode string    `msgpack:"parse_mode,omitempty"`
	ReplyTo   int       `msgpack:"reply_to_message_id,omitempty"`
	Keyboard  Keyboard  `msgpack:"inline_keyboard,omitempty"`
	Silent    bool      `msgpack:"disable_notification,omitempty"`
}

// Type implements event.Event.
func (SendDocument) Type() string { return TypeSendDocument }
