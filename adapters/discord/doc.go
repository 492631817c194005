// Package discord connects a Discord bot to Switchboard: events come in
// over the Gateway (API v10, JSON encoding), messages go out over the REST
// API. It uses github.com/bwmarrin/discordgo for the REST client, its
// per-route rate limiter and its types, and speaks the Gateway itself on
// github.com/gorilla/websocket (see "The Gateway" for why).
//
//	discord:
//	  token: ${DISCORD_TOKEN}
//	  intents: [guilds, guild_messages, direct_messages, message_content]
//	  shard: {id: 0, count: 1}
//	  answer_bots: false
//	  global_rate: 45
//	  retries: 3
//
// The adapter is an adapters.Adapter: an adapters.Host runs it and keeps
// its conversations, lifecycle, readiness, pushes (push.<name>) and
// metrics. New builds it from a Config; Factory from a server's config
// section.
//
// # Conversations
//
// Each channel is a conversation with its own scope, keyed by the
// channel's id: a guild text channel, a direct message, and each thread,
// since a thread is a channel of its own on Discord (its messages carry
// the thread's id as channel_id). The scope carries the channel (Chat.Type
// "guild" or "dm"), the guild in Team, the author in User and the bot in
// Bot. Inbound: discord.message (Message, an event.ChatMessage, with the
// MESSAGE_CREATE's JSON in Raw), then the runtime's discord.disconnect.
// The bot's own messages are never delivered; other bots' and webhooks'
// only with answer_bots, so that two bots never answer each other for
// ever. Outbound: chat.say (event.Say) to the scope's channel, and
// discord.send (Send), a reply when it names ReplyTo, which is what
// ChatReply makes; Push sends a discord.send naming its channel without a
// scope. Mentions notify nobody unless Send.Mentions says so.
//
// # The Gateway
//
// Serve checks the token (GET /users/@me: a 401 is ErrAuth, at once),
// asks GET /gateway/bot for the Gateway's URL, and connects: HELLO gives
// the heartbeat interval; the adapter sends IDENTIFY with its intents and
// its shard, [id, count] (Discord sends a guild's events to shard
// (guild_id >> 22) % count and direct messages to shard 0, so a bot too
// large for one connection runs one adapter section, in one process or
// several, per shard), and heartbeats every interval, the first after a
// random part of it, each carrying the last sequence number taken. A
// heartbeat whose predecessor got no HEARTBEAT_ACK, when nothing was read
// since and the reader is not held by a full inbox, finds the connection
// a zombie: the adapter closes it and resumes on a new one.
//
// A dropped connection, a RECONNECT (op 7) or a resumable INVALID_SESSION
// (op 9, d true) is followed by a new connection to READY's
// resume_gateway_url and RESUME with the session id and that sequence
// number: Discord replays every event after it, then says RESUMED. When
// the adapter closes a connection it means to resume, it closes with
// 4000, never 1000 or 1001, which end the session. An INVALID_SESSION
// that cannot be resumed (also Discord's answer to shards identifying
// faster than it allows) makes the adapter wait 1 to 5 s, as Discord
// asks, and identify anew; close codes 4007 and 4009 end the session too.
// Close codes 4004 (authentication failed, wrapping ErrAuth) and 4010 to
// 4014 (shard, API version, intents) stop Serve with a *CloseError. Any
// other failure is retried at once when the connection had been up, then
// after 1 s, doubling to 2 min.
//
// discordgo has a Gateway client, Session.Open, but the adapter does not
// use it: Open and its reconnection loop take no context and cannot be
// stopped mid-dial; every close sleeps a second holding the session's
// lock; a missing heartbeat ACK makes it close with 1000, which ends the
// session on Discord, so the RESUME that follows fails and the events in
// between are lost; it reads no resume_gateway_url, nor the resumable flag
// of INVALID_SESSION; and it logs through the standard library's global
// logger. The Gateway here is about 300 lines on gorilla/websocket (which
// discordgo uses too) with the clock injected (WithClock).
//
// # Acknowledgement
//
// Discord has no acknowledgement of Gateway events: what the client
// reports is the sequence number of the last event it took, in its
// heartbeats and in RESUME, and a RESUME replays what came after it. The
// adapter takes an event once Intake.Deliver accepted it into its
// conversation's inbox, and only then advances the sequence number.
// Deliver waits while the inbox is full, and the reading of the Gateway
// with it, for every conversation of the shard, while the heartbeat goes
// on: Discord keeps what it could not send, and a conversation that
// stays full for good is for the timeout middleware to cut loose. So a dropped connection loses
// nothing and handles nothing twice: what was taken is in this process
// and is handled; what was not is replayed by the RESUME. A restart is
// another matter: at Shutdown every event taken is handled before the
// scopes end, and the adapter closes the Gateway with 1000, which ends
// the session; the next process identifies with a new session, and
// Discord does not send it what was said while no process was connected.
// A SIGKILL loses the events taken and not yet handled, too. Resuming a
// session across processes would need the session id, the sequence of
// the last event handled in order and the ids of those handled beyond it
// kept durably, with a RESUME within Discord's resume window; the
// adapter does not do that.
//
// # Outbound calls and rate limits
//
// Every REST call goes through discordgo's rate limiter: one bucket per
// route and major parameter (a channel's messages), updated from the
// X-RateLimit-Remaining and -Reset-After headers of every answer, and
// waited for while exhausted, within the caller's context (the adapter
// locks the bucket itself rather than through discordgo's LockBucket,
// which sleeps without one). discordgo keys its buckets by URL, not by
// the X-RateLimit-Bucket hash: routes that Discord counts in one bucket
// are paced apart, and the 429 that this may bring is waited out. A 429 is waited out for its retry_after and
// the call made again, up to Config.Retries times, as are 5xx answers and
// network errors (with backoff; each message carries a nonce with
// enforce_nonce, so that Discord does not post a retried message twice).
// Discord's global limit (50 requests a second per bot), which no header
// announces, is kept by the adapter's transport: a steady pace of
// global_rate requests a second (45 by default), and a pause of every
// route for a global 429's retry_after. Waits and retries are reported to
// the Host's observer. Texts over 2000 characters are split.
//
// discordgo builds its URLs from package variables for API v9. Rather
// than change those (they are global: every Session in the process would
// follow), the adapter's transport rewrites each request to Config.APIURL,
// https://discord.com/api/v10/ by default, or a fake's in tests, and
// refuses any request outside the API. The token goes only into the
// Authorization header and IDENTIFY/RESUME, and is never logged: Config
// holds it as a Secret, and discordgo's own logging is silenced.
//
// # Refusals
//
// A call Discord refuses returns an *adapters.RefusedError whose Code is
// Discord's JSON error code ("50013", Missing Permissions; "50001",
// Missing Access; "10003", Unknown Channel; "50007", cannot message the
// user; "50035", Invalid Form Body) or the HTTP status when there is none
// ("429" for a rate limit that outlasted the retries, "503"); Temporary
// is set for 429 and 5xx. A 502 that outlasted the retries is not a
// refusal but discordgo's error: whether Discord made the call is unknown
// (the nonce keeps a message from being posted twice if it did). It wraps an *APIError with the status, code and
// message. The conversation goes on.
//
// Package discordtest is a fake Discord for tests of bots and of this
// adapter.
package discord
