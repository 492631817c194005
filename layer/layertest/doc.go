// Package layertest is the conformance suite for channel layer backends.
// The channel layer specification is mostly about edge cases (full
// channels, expiry, cancelled receives, closing under load), and those are
// exactly what a new backend gets wrong; one shared suite keeps every
// backend honest about the same rules instead of each testing its own
// reading of them.
//
// A backend's test calls Run with a factory for fresh layers and the
// Features it claims; cases for features it does not claim are skipped.
// Cases use unique channel and group names, so backends that share one
// server across parallel cases, or across test binaries, do not see each
// other's traffic. Each case is also exported on its own, for a backend
// that wants to run a subset or repeat one with other settings.
package layertest
