package slack

import "encoding/json"

// Outbound events. An empty Channel (and Thread) means the scope's own, so a
// consumer answers where it was spoken to; naming a channel sends there
// instead, and is required when pushing without a scope. Blocks are Block
// Kit JSON, an array of blocks, kept as bytes so that the event crosses a
// channel layer unchanged.

// Send posts a message with chat.postMessage: "slack.send".
type Send struct {
	Channel string          `msgpack:"channel,omitempty"`
	Thread  string          `msgpack:"thread,omitempty"`
	Text    string          `msgpack:"text"`
	Blocks  json.RawMessage `msgpack:"blocks,omitempty"`
	// Broadcast also shows a thread reply in the channel.
	Broadcast bool `msgpack:"broadcast,omitempty"`
}

func (Send) Type() string { return "slack.send" }

// Update edits a message the bot posted, with chat.update: "slack.update".
type Update struct {
	Channel string          `msgpack:"channel,omitempty"`
	TS      string          `msgpack:"ts"`
	Text    string          `msgpack:"text"`
	Blocks  json.RawMessage `msgpack:"blocks,omitempty"`
}

func (Update) Type() string { return "slack.update" }

// React adds an emoji reaction ("thumbsup", no colons) to a message, with
// reactions.add: "slack.react".
type React struct {
	Channel string `msgpack:"channel,omitempty"`
	TS      string `msgpack:"ts"`
	Name    string `msgpack:"name"`
}

func (React) Type() string { return "slack.react" }

// Ephemeral posts a message only User sees, with chat.postEphemeral:
// "slack.ephemeral". An empty User means the scope's user.
type Ephemeral struct {
	Channel string          `msgpack:"channel,omitempty"`
	Thread  string          `msgpack:"thread,omitempty"`
	User    string          `msgpack:"user,omitempty"`
	Text    string          `msgpack:"text"`
	Blocks  json.RawMessage `msgpack:"blocks,omitempty"`
}

func (Ephemeral) Type() string { return "slack.ephemeral" }

// Respond answers a slash command or an interaction through its
// response_url: "slack.respond". ResponseType "in_channel" shows the answer
// to everyone; empty or "ephemeral" to the invoking user only.
type Respond struct {
	ResponseURL     string          `msgpack:"response_url"`
	Text            string          `msgpack:"text"`
	Blocks          json.RawMessage `msgpack:"blocks,omitempty"`
	ResponseType    string          `msgpack:"response_type,omitempty"`
	ReplaceOriginal bool            `msgpack:"replace_original,omitempty"`
	DeleteOriginal  bool            `msgpack:"delete_original,omitempty"`
}

func (Respond) Type() string { return "slack.respond" }
