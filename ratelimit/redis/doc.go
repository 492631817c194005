// Package redis keeps rate limits in Redis, so that every process of a
// cluster sharing that Redis (single, Sentinel or Cluster) stays under a
// platform's limits together: N processes sending for one bot send no
// more than the bot may.
//
// Each Reserve is one Lua script, one round trip: it reads the Redis
// server's clock, finds the earliest slot every limit allows (GCRA) and
// no pause covers, and takes it for all of them. A limit's state is one
// string key holding its theoretical arrival time in microseconds, with
// a time to live that ends once the limit is idle; a pause is a key with
// PX. Settle and Pause are a script each too. Keys live under
// "<prefix>:limit:".
//
// Why a script of its own rather than go-redis' redis_rate: a Telegram
// message counts against its chat's limit and its bot's at once, and
// redis_rate takes one key per call, so taking the chat's slot and then
// waiting for the bot's would let the chat's next message come closer
// than a second after this one; it also knows no pauses, which would cost
// another round trip per call.
package redis
