package discord

import "github.com/switchboard-bots/switchboard/event"

// Message is a MESSAGE_CREATE from a user: in a guild channel, a thread
// (a channel of its own on Discord) or a direct message.
type Message struct {
	ID        string `msgpack:"id"`
	ChannelID string `msgpack:"channel_id"`
	// GuildID is the guild; empty for a direct message.
	GuildID string `msgpack:"guild_id"`
	// AuthorID, Username and GlobalName (the display name) say who wrote
	// it; Bot marks a bot (delivered only with answer_bots).
	AuthorID   string `msgpack:"author_id"`
	Username   string `msgpack:"username"`
	GlobalName string `msgpack:"global_name"`
	Bot        bool   `msgpack:"bot"`
	// Content is the text; empty for a guild message when the bot lacks
	// the message_content intent.
	Content string `msgpack:"content"`
	// Raw is the MESSAGE_CREATE's data as Discord sent it (JSON).
	Raw string `msgpack:"raw"`
}

var _ event.ChatMessage = Message{}

// Type implements event.Event.
func (Message) Type() string { return "discord.message" }

// ChatText implements event.ChatMessage.
func (m Message) ChatText() string { return m.Content }

// ChatReply implements event.ChatMessage: a reply to m, in its channel.
func (m Message) ChatReply(text string) event.Event {
	return Send{ChannelID: m.ChannelID, Content: text, ReplyTo: m.ID}
}

// Send posts Content to ChannelID (POST /channels/{id}/messages); without
// a ChannelID, to the scope's own channel. Text over Discord's 2000
// characters is split into several messages, at line breaks or spaces
// where it can be.
type Send struct {
	ChannelID string `msgpack:"channel_id"`
	Content   string `msgpack:"content"`
	// ReplyTo makes the (first) message a reply to this message id.
	ReplyTo string `msgpack:"reply_to,omitempty"`
	// Mentions lets <@user> and <@&role> mentions in Content notify whom
	// they name. By default no mention notifies anyone (allowed_mentions
	// is empty), so that a bot repeating a user's "@everyone" pings
	// nobody; @everyone and @here never notify.
	Mentions bool `msgpack:"mentions,omitempty"`
}

// Type implements event.Event.
func (Send) Type() string { return "discord.send" }
