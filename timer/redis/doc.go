// Package redis keeps timers in Redis, durable and shared by every process
// on the same Redis and prefix.
//
// Each adapter's timers are a sorted set "<prefix>timers:<adapter>:due",
// scored by when each is next due in Unix milliseconds, and a hash
// "<prefix>timers:<adapter>:data" of their encodings, both keyed by the
// timer's conversation key and name. A claim is one Lua script: it takes
// the due members, re-scores each to the end of its lease and returns them,
// so that two processes never claim one timer at once. An ack removes the
// timer only if its score is still the claim's, so a timer scheduled again
// or claimed again meanwhile stays. For Redis Cluster, put a hash tag in
// the prefix ("{bots}.") so that both keys share a slot.
package redis
