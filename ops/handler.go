package ops

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the operations endpoints:
//
//   - /metrics: what reg gathers, in the Prometheus exposition format;
//   - /healthz: liveness, see Health.Live;
//   - /readyz: readiness, see Health.Ready.
//
// Serve it on a port of its own rather than beside a WebSocket adapter's
// public routes: metrics and check errors describe the server's insides.
// A nil h serves no checks, so /readyz always answers 200. Handler panics
// on a nil reg, a wiring mistake that would otherwise only show as an empty
// scrape.
func Handler(reg *prometheus.Registry, h *Health) http.Handler {
	if reg == nil {
		panic("ops: Handler: nil registry")
	}
	if h == nil {
		h = new(Health)
	}
	mux := http.NewServeMux()
	// ContinueOnError: one broken collector should cost its own series,
	// not the whole scrape and every alert that depends on it.
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.Handle("/healthz", h.Live())
	mux.Handle("/readyz", h.Ready())
	return mux
}
