// Package ops gives a bot server what its operators need: Prometheus
// metrics and health endpoints. Metrics registers its collectors on a
// registry the caller owns, never the global default, so tests and
// several servers in one process stay apart; its Middleware counts the
// scopes, inbound and outbound events, handler latency and errors of every
// scope it wraps, its Layer does the same for channel layer failures, and
// OutboundRetry and RateLimitWait are hooks adapters call when they retry a
// platform request or wait for a rate limit. Health answers liveness
// (/healthz: the process runs) and readiness (/readyz: every registered
// check, such as "adapters connected" or "layer reachable", passes within a
// short timeout), which is what a load balancer or Kubernetes probes need
// to route traffic only to servers that can serve it. SlowHandlers names
// handlers that run longer than a threshold, counts them, and fails
// readiness while they hold an adapter's scopes near its bound; package
// logs keeps the log bounded and free of secrets. Handler serves
// /metrics, /healthz and /readyz on one http.Handler.
package ops
