//go:build race

package redis_test

// raceEnabled: the race detector slows decoding and delivery about tenfold,
// so wall-time bounds are not checked under it.
const raceEnabled = true
