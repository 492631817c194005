// Package ratelimit spaces outbound calls under a platform's rate limits,
// in one process or across every process that shares a Redis.
//
// A platform counts calls per bot, per chat, per method: a call counts
// against several limits at once (a Telegram message against its bot's 30
// a second and its chat's one a second). A Limiter hands out, for one
// call, the earliest slot every limit allows (Reserve): the caller waits
// until then and makes its call. Limits are kept by GCRA (the generic cell
// rate algorithm): a limit's state is one time, the theoretical arrival
// time of its next call, so a limit costs one small value however many
// calls it has seen, and a slot is taken for all of a call's limits at
// once or for none.
//
// A platform counts a call when it arrives, and a call may arrive late (a
// stalled process, a busy network): once it was answered, Settle counts
// it as made then, so that the next call under its limit cannot arrive
// less than a spacing after it.
//
// When the platform refuses a call anyway (HTTP 429 with a retry after),
// Pause holds back the limit it named, for every process sharing the
// Limiter.
//
// Memory keeps limits in the process; ratelimit/redis keeps them in Redis
// for a cluster of processes. Both pass the suite in
// ratelimit/ratelimittest.
package ratelimit
