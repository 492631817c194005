// Package slack is the Slack adapter: it connects one Slack app to a
// Switchboard application, through Socket Mode (a WebSocket the adapter
// opens with an app-level token; no public endpoint) or over HTTP (the
// Events API, slash command and interactivity endpoints, each request
// verified against the signing secret). It uses github.com/slack-go/slack
// for the Web API, Socket Mode and event parsing.
//
// # Conversations
//
// Each channel (DM, channel, private group) is a conversation with its own
// scope, keyed team:channel; with Config.Threads each thread is one too,
// keyed team:channel:thread_ts. The scope carries the channel and its type
// (im, channel, group, mpim), the user who started it, the thread, the
// bot's own user id in Scope.Bot, and the team (see Team).
//
// # Events
//
// Inbound: slack.message, slack.app_mention, slack.reaction_added,
// slack.command (a slash command), slack.interaction (a block action),
// slack.event (anything else, raw), and slack.disconnect at the end of a
// scope. Messages, mentions and commands implement consumer.ChatMessage,
// so chat consumers and the command router serve Slack unchanged; a
// command's reply goes to its response_url. The bot's own messages and, by
// default, other bots' are dropped, so that a bot never answers itself.
//
// Outbound: slack.send, slack.update, slack.react, slack.ephemeral and
// slack.respond. They default to the scope's channel and thread and may
// name another; Push sends them without a scope.
//
// # Delivery
//
// An update is acknowledged (the Socket Mode ack, the HTTP 200) only once
// its scope's inbox accepted it, and within Slack's 3-second window: an
// update that cannot be accepted in time is left unacknowledged and Slack
// sends it again. Retries are recognised by event id and delivered once.
// Each conversation is delivered on its own lane, so a slow conversation
// holds up no other.
//
// Outbound calls wait for per-method and per-channel rate limiters
// (chat.postMessage about one a second per channel, with bursts), pause
// and retry on 429 for as long as Retry-After says, and retry 5xx. An
// error Slack reports comes back to the scope as a slack.error event
// carrying Slack's code, and is logged; tokens and the signing secret are
// never logged.
//
// Package fakeslack is a fake Slack for tests of bots and of this adapter.
package slack
