// Package discordtest is a fake Discord for tests: the REST API and the
// Gateway of Discord's API v10, JSON encoding, over real HTTP and a real
// WebSocket on 127.0.0.1, so that an adapter or a bot is tested with the
// same client code it runs against Discord.
//
// REST (under /api/v10/, every call with "Authorization: Bot <token>", or
// 401 {"message": "401: Unauthorized", "code": 0}):
//
//   - GET /gateway/bot answers the Gateway's URL, the recommended shard
//     count and the session start limit;
//   - GET /users/@me answers the bot's user;
//   - POST /channels/{channel.id}/messages posts a message (content,
//     message_reference, nonce with enforce_nonce: the same nonce in the
//     same channel answers the first message again instead of posting
//     twice) and answers the message object. Empty content, or more than
//     2000 characters, is 400 {"code": 50035, "message": "Invalid Form
//     Body"}; a channel made to refuse with Refuse answers Discord's error
//     for the code (50013 Missing Permissions, 50001 Missing Access, 10003
//     Unknown Channel, 50007 Cannot send messages to this user).
//
// Rate limits follow Discord's headers: each channel's message route is a
// bucket of Limits.Route requests per Limits.Window, told in
// X-RateLimit-Limit, -Remaining, -Reset (epoch seconds), -Reset-After
// (seconds) and -Bucket on every answer. A request to an exhausted bucket
// before its reset, or over Limits.Global requests in a second for the
// whole bot, gets 429 with {"message": "You are being rate limited.",
// "retry_after": s, "global": bool}, Retry-After, X-RateLimit-Scope and,
// for the global limit, X-RateLimit-Global. The fake records as a
// Violation every request that a client keeping the limits would not have
// made: one to an exhausted bucket before its reset, one over the global
// limit, one inside the retry_after window of a 429 it was answered (on its
// bucket, or anywhere after a global one). Limits run on the wall clock,
// as a client's limiter reads the headers against its own.
//
// Gateway (the "url" of /gateway/bot, with ?v=10&encoding=json): HELLO
// (op 10) with the heartbeat interval; HEARTBEAT (op 1) answered with
// HEARTBEAT_ACK (op 11); IDENTIFY (op 2) checked for the token, the
// intents and the shard, answered with READY (session_id,
// resume_gateway_url, user, shard); RESUME (op 6) answered with every
// dispatch after the client's seq, then RESUMED, or with INVALID_SESSION
// (op 9, d false) when the session is unknown or was closed with code 1000
// or 1001; Discord's close codes for bad input (4001 unknown opcode, 4002
// decode error, 4003 not authenticated, 4004 authentication failed, 4005
// already authenticated, 4010 invalid shard, 4013 invalid intents). Every
// dispatch carries the session's next sequence number s and is kept for
// replay. MESSAGE_CREATE goes to the session whose shard has the guild
// ((guild_id >> 22) % num_shards; direct messages to shard 0); without
// the MESSAGE_CONTENT intent, guild messages arrive with empty content,
// as on Discord.
//
// Tests drive it with Say (a user's message), Drop (the connections break
// without a close frame, so sessions stay resumable and what is said
// meanwhile is replayed), Outage (Drop, and hold new connections until a
// function returns), Unavailable (new connections get 503), StopAcks
// (heartbeats go unanswered), LoseAnswers (a post is made but answered
// 502), Refuse, Reconnect (op 7), InvalidateSessions (op 9), and read
// it with Posted, AwaitPosted, Violations, Identifies, Resumes and
// Heartbeats.
package discordtest
