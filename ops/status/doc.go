// Package status is a live status page for a bot server's operators, for
// those who would rather look than read logs or write PromQL. Served on
// the ops listener beside /metrics, /healthz and /readyz, /status shows
// each adapter's state (starting, serving, or not ready and why), its
// last line and last problem with their time, its events in and out per
// second with a chart of the last two minutes, its live scopes against
// max_scopes; handler latency percentiles by protocol; the handlers
// running over the slow threshold; the channel layer's health; and this
// process's identity and what it serves. /status.json is the same as
// JSON. The page is plain HTML, CSS and JavaScript embedded in the binary:
// no CDN, no library; it polls the JSON once per second while it is
// visible.
//
// A Status reads its Sources once per interval (Run) and serves the last
// sample, so that the page costs the same whoever watches it. The sources
// are small interfaces that the server's parts satisfy: the adapters'
// Hosts (Runner), ops.Health (Checker), ops.SlowHandlers (SlowWatcher)
// and the Prometheus registry ops.Metrics registers on. Two come from this
// package, because nothing else counts what the page needs: Traffic, a
// middleware that counts events by adapter rather than by protocol, and
// LogTap, a slog.Handler wrapper that remembers each adapter's last line
// and problem.
//
// The page shows no configuration value: names, counts, states, and log
// lines masked by the LogTap's Redact. Like the other ops endpoints it has
// no authentication of its own: keep the ops listener on loopback or a
// private network.
package status
