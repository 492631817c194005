// Package slack is the Slack adapter: it connects one Slack app to a
// Switchboard application, through Socket Mode (a WebSocket the adapter
// opens with an app-level token; no public endpoint) or over HTTP (the
// Events API, slash command and interactivity endpoints, each request
// verified against the signing secret). It uses github.com/slack-go/slack
// for the Web API, Socket Mode and event parsing.
//
// The adapter is an adapters.Adapter: an adapters.Host runs it and keeps
// its conversations (adapters.WithScopes), its lifecycle, its readiness
// (Slack's hello on the socket, or the endpoints served), its pushes and
// its metrics (adapters.WithObserver sees its retries and rate-limit
// waits). New builds it from a Config; Factory builds it from a server's
// config section, where http mode needs listen.
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
// scope. Messages, mentions and commands implement event.ChatMessage,
// so chat consumers and the command router serve Slack unchanged; a
// command's reply goes to its response_url. The bot's own messages and, by
// default, other bots' are dropped, so that a bot never answers itself.
//
// Outbound: chat.say (event.Say: text in the scope's channel and, if the
// scope is a thread, its thread), slack.send, slack.update, slack.react,
// slack.ephemeral and slack.respond. They default to the scope's channel
// and thread and may name another; Push sends them without a scope.
//
// # Acknowledgement
//
// An event is acknowledged to Slack (the Socket Mode ack with its
// envelope_id, the HTTP 200 of the Events API, interactivity and slash
// command endpoints) only once it is safe: as soon as its handler
// returned, or, if the handler is still running, at Config.AckDeadline
// (2.5 s by default), just before Slack's 3-second window closes. So:
//   - An event acknowledged at its deadline is delivered at most once by
//     this process: if the process dies before the handler is done, Slack
//     does not send it again. Surviving that needs a durable intake shared
//     by several processes, which this adapter does not have.
//   - An event whose handler failed is acknowledged all the same: the
//     failure is the scope manager's to log, and Slack sending the event
//     again would fail it again.
//   - An event that will not be handled in this process (its scope ended
//     before it) is not acknowledged, nor is one that found no room in its
//     conversation's inbox by the deadline: Slack sends it again. Over
//     HTTP it is answered 503.
//
// Slack's retries (X-Slack-Retry-Num, a Socket Mode envelope sent again
// after a reconnect) are recognised by event id and never delivered twice:
// one that comes after the first was acknowledged is acknowledged at once;
// one that comes while the first is under way joins it on the socket (and
// is acknowledged with it), or is answered 503 over HTTP, to come again. Each conversation is delivered on its own lane, so a slow
// conversation holds up no other. Signatures are verified before anything
// is read from a request.
//
// At Shutdown the adapter takes nothing new (HTTP requests get 503), and
// waits, within the Host's grace, for the events it took to be handled or
// reach their deadline, so that their acknowledgements go out. A Socket
// Mode acknowledgement handed to the connection in its very last instant
// may not be written before it closes: Slack then sends that event again,
// to the next process, which is a duplicate and never a loss.
//
// # Outbound calls
//
// Outbound calls wait for per-method and per-channel rate limiters
// (chat.postMessage about one a second per channel, with bursts; a
// channel's next post counted from when the last was answered, if later),
// pause and retry on 429 for as long as Retry-After says, and retry 5xx
// and network errors. With WithSharedLimits (the server sets it on the
// Redis layer) the limits are kept for every process on a
// ratelimit.Limiter too, and a 429 pauses the method for all of them. A call Slack refuses (channel_not_found, not_in_channel,
// is_archived, msg_too_long, invalid_auth, or a rate limit or server error
// that outlasted the retries) returns an *adapters.RefusedError whose Code
// is Slack's error string and which wraps an *APIError; Temporary says
// whether trying again later can help. The conversation goes on. With
// Config.ErrorEvents (error_events) the refusal also comes back to the
// scope as a slack.error event, for bots written against it. Tokens and
// the signing secret are never logged.
//
// Package fakeslack is a fake Slack for tests of bots and of this adapter.
package slack
