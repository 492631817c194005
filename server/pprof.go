package server

import (
	"net/http"
	"net/http/pprof"
)

// withPprof serves the runtime profiles of net/http/pprof under
// /debug/pprof/ beside next's routes. The handlers are registered on a mux
// of the ops listener's own, never on http.DefaultServeMux: importing
// net/http/pprof registers them there too, and a program that serves the
// default mux on a public port must not expose them by accident.
//
// Profiles name the program's insides and a CPU or trace profile costs
// CPU while it runs, so they are off unless OpsConfig.Pprof asks, and the
// ops listener should stay on loopback.
func withPprof(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // heap, goroutine, allocs, block, mutex, threadcreate
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", next)
	return mux
}

// enablePprof adds the profiles to the ops listener when on, before it
// listens; without an ops address there is nothing to add them to.
func (o *opsServer) enablePprof(on bool) { o.pprof = on }
