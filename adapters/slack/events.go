package slack

import (
	"encoding/json"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Inbound events. Every one carries the team and channel it came from and,
// in Raw, the platform's JSON exactly as it arrived, so that nothing Slack
// sent is lost to a bot that needs a field these structs do not name.

// Slack's messages, mentions and slash commands are chat messages, so
// that chat consumers and the command router serve Slack unchanged.
var (
	_ event.ChatMessage = Message{}
	_ event.ChatMessage = AppMention{}
	_ event.ChatMessage = Command{}
	_ scope.Final       = Disconnect{}
)

// File is the metadata of a file shared with a message. The content is not
// downloaded: URLPrivate needs the bot token.
type File struct {
	ID         string `msgpack:"id"`
	Name       string `msgpack:"name"`
	Title      string `msgpack:"title,omitempty"`
	Mimetype   string `msgpack:"mimetype,omitempty"`
	Filetype   string `msgpack:"filetype,omitempty"`
	Size       int    `msgpack:"size,omitempty"`
	URLPrivate string `msgpack:"url_private,omitempty"`
	Permalink  string `msgpack:"permalink,omitempty"`
}

// Message is a message posted in a channel the bot is in: "slack.message".
type Message struct {
	EventID     string          `msgpack:"event_id"`
	Team        string          `msgpack:"team"`
	Channel     string          `msgpack:"channel"`
	ChannelType string          `msgpack:"channel_type"` // im, channel, group, mpim
	User        string          `msgpack:"user"`
	Text        string          `msgpack:"text"`
	TS          string          `msgpack:"ts"`
	ThreadTS    string          `msgpack:"thread_ts,omitempty"`
	SubType     string          `msgpack:"subtype,omitempty"`
	BotID       string          `msgpack:"bot_id,omitempty"`
	Files       []File          `msgpack:"files,omitempty"`
	Raw         json.RawMessage `msgpack:"raw,omitempty"`
}

func (Message) Type() string { return "slack.message" }

// ChatText returns the message text, for chat consumers and routers.
func (m Message) ChatText() string { return m.Text }

// ChatReply returns the Send that answers m in its channel and thread.
func (m Message) ChatReply(text string) event.Event {
	return Send{Channel: m.Channel, Thread: m.ThreadTS, Text: text}
}

// AppMention is a message that mentions the bot: "slack.app_mention".
// Slack sends it besides the Message when the bot is in the channel.
type AppMention struct {
	EventID  string          `msgpack:"event_id"`
	Team     string          `msgpack:"team"`
	Channel  string          `msgpack:"channel"`
	User     string          `msgpack:"user"`
	Text     string          `msgpack:"text"`
	TS       string          `msgpack:"ts"`
	ThreadTS string          `msgpack:"thread_ts,omitempty"`
	Raw      json.RawMessage `msgpack:"raw,omitempty"`
}

func (AppMention) Type() string { return "slack.app_mention" }

// ChatText returns the message text, mention included.
func (m AppMention) ChatText() string { return m.Text }

// ChatReply returns the Send that answers m in its channel and thread.
func (m AppMention) ChatReply(text string) event.Event {
	return Send{Channel: m.Channel, Thread: m.ThreadTS, Text: text}
}

// ReactionAdded is an emoji reaction added to an item:
// "slack.reaction_added".
type ReactionAdded struct {
	EventID  string          `msgpack:"event_id"`
	Team     string          `msgpack:"team"`
	Channel  string          `msgpack:"channel"`
	User     string          `msgpack:"user"`
	Reaction string          `msgpack:"reaction"`
	ItemUser string          `msgpack:"item_user,omitempty"`
	ItemTS   string          `msgpack:"item_ts"`
	Raw      json.RawMessage `msgpack:"raw,omitempty"`
}

func (ReactionAdded) Type() string { return "slack.reaction_added" }

// Command is a slash command: "slack.command". Answer it through
// ResponseURL (Respond) within 30 minutes, or open a modal with TriggerID
// within 3 seconds.
type Command struct {
	Team        string `msgpack:"team"`
	Channel     string `msgpack:"channel"`
	ChannelName string `msgpack:"channel_name,omitempty"`
	User        string `msgpack:"user"`
	UserName    string `msgpack:"user_name,omitempty"`
	Command     string `msgpack:"command"` // "/deploy"
	Text        string `msgpack:"text"`    // what follows the command
	ResponseURL string `msgpack:"response_url"`
	TriggerID   string `msgpack:"trigger_id"`
}

func (Command) Type() string { return "slack.command" }

// ChatText returns the command line as typed, "/deploy prod", so that the
// command router serves slash commands like typed ones.
func (c Command) ChatText() string {
	if c.Text == "" {
		return c.Command
	}
	return c.Command + " " + c.Text
}

// ChatReply answers through the command's response_url, which works even
// in channels the bot is not a member of. The answer is ephemeral (seen by
// the invoking user only), Slack's default; send a Respond with
// ResponseType "in_channel" to answer in public.
func (c Command) ChatReply(text string) event.Event {
	return Respond{ResponseURL: c.ResponseURL, Text: text}
}

// Interaction is a block action: a button pressed or a menu option chosen
// in a message: "slack.interaction". Other interaction types (view
// submissions, shortcuts) arrive with their Kind and Raw payload.
type Interaction struct {
	Kind        string          `msgpack:"kind"` // block_actions, view_submission, ...
	Team        string          `msgpack:"team"`
	Channel     string          `msgpack:"channel,omitempty"`
	User        string          `msgpack:"user"`
	ActionID    string          `msgpack:"action_id,omitempty"`
	BlockID     string          `msgpack:"block_id,omitempty"`
	Value       string          `msgpack:"value,omitempty"`
	MessageTS   string          `msgpack:"message_ts,omitempty"`
	ThreadTS    string          `msgpack:"thread_ts,omitempty"`
	ResponseURL string          `msgpack:"response_url,omitempty"`
	TriggerID   string          `msgpack:"trigger_id,omitempty"`
	Raw         json.RawMessage `msgpack:"raw,omitempty"`
}

func (Interaction) Type() string { return "slack.interaction" }

// Event is any other Events API event: "slack.event". EventType is Slack's
// inner event type ("member_joined_channel", "team_join", ...).
type Event struct {
	EventID   string          `msgpack:"event_id"`
	EventType string          `msgpack:"event_type"`
	Team      string          `msgpack:"team"`
	Channel   string          `msgpack:"channel,omitempty"`
	User      string          `msgpack:"user,omitempty"`
	Raw       json.RawMessage `msgpack:"raw,omitempty"`
}

func (Event) Type() string { return "slack.event" }

// Error reports an outbound call Slack refused, delivered to the scope that
// sent it, after the event it is handling, only with Config.ErrorEvents:
// "slack.error". Send returns the refusal as an *adapters.RefusedError in
// any case. Code is Slack's error code ("channel_not_found",
// "not_in_channel", "invalid_auth", ...).
type Error struct {
	Method  string `msgpack:"method"`  // "chat.postMessage"
	Channel string `msgpack:"channel"` // where the call went
	Code    string `msgpack:"code"`
	Event   string `msgpack:"event"` // the outbound event type that failed
}

func (Error) Type() string { return "slack.error" }

// Disconnect ends a conversation: "slack.disconnect".
type Disconnect struct {
	Reason scope.Reason `msgpack:"reason"`
}

func (Disconnect) Type() string { return "slack.disconnect" }

// EndReason implements scope.Final.
func (d Disconnect) EndReason() scope.Reason { return d.Reason }
