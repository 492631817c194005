// Package fakeslack is a Slack for tests, served over real HTTP and
// WebSocket on 127.0.0.1, so that code under test drives the real slack-go
// client against it.
//
// It serves the Web API methods a bot needs (auth.test,
// apps.connections.open, chat.postMessage, chat.update, chat.postEphemeral,
// reactions.add) and response_url posts, and records every call; a Socket
// Mode WebSocket that says hello, pings, pushes envelopes (events_api,
// slash_commands, interactive), records acknowledgements by envelope_id
// and sends unacknowledged envelopes again on the next connection, as
// Slack does; and it posts Events API, slash command and interactivity
// requests to an HTTP endpoint, signed with the v0 HMAC-SHA256 scheme (or
// signed wrongly, on purpose).
//
// Errors are scripted per method (Fail: 429 with Retry-After and
// {"ok":false,"error":"ratelimited"}, 5xx, {"ok":false,"error":code} such
// as invalid_auth) or per channel (FailChannel:
// channel_not_found), and Socket Mode connections can be refreshed
// (Disconnect) or cut (Drop) mid-stream.
//
// Waits are bounded by Timeout and use notifications, never sleeps.
package fakeslack
