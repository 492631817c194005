// Package ratelimittest is the conformance suite of ratelimit.Limiter: the
// in-memory Limiter and the Redis one pass it, and so must a Limiter of a
// user's own.
package ratelimittest
