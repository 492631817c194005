// Package throttle paces an adapter's outbound calls where its platform
// punishes a client that goes faster than a fixed rate: IRC servers
// disconnect a client for "Excess Flood", chat APIs answer 429. A Bucket
// lets Burst calls go at once, then one per interval, and makes the rest
// wait on an injectable clock, so that tests step time instead of
// sleeping. It is golang.org/x/time/rate's token bucket, read against
// that clock.
package throttle
