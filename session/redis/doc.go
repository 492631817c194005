// Package redis is the session store on Redis, for sessions that outlive
// the process and are shared by every process on the same Redis.
//
// Each session is a hash under the key prefix + session key, with the
// fields "v" (the version) and "d" (the data), and the session's time to
// live as the key's expiry. A load is one HMGET; a save is one call of a
// Lua script that compares the stored version with the expected one and
// writes only when they match, so a save is atomic and costs one round
// trip whichever Redis topology serves it (single, Sentinel, Cluster: the
// script touches one key).
//
// A session created (or created again after it expired or was deleted)
// starts at a version taken from the Redis server's clock in microseconds,
// so a version read before a delete never matches one handed out after it.
package redis
