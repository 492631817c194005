package ops

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultCheckTimeout bounds a readiness check when Health.Timeout is zero.
// Probes (Kubernetes' default is 1s) give up quickly, and a check that
// cannot answer in time is as good as failing.
const DefaultCheckTimeout = time.Second

// Health answers liveness and readiness probes. The zero value is ready to
// use and has no checks, so it is always ready.
type Health struct {
	// Timeout bounds each readiness check; zero means
	// DefaultCheckTimeout. Set it before serving.
	Timeout time.Duration

	mu     sync.RWMutex
	checks []check
}

type check struct {
	name string
	fn   func(ctx context.Context) error
}

// Failure is a readiness check that did not pass.
type Failure struct {
	Name string
	Err  error
}

// AddCheck adds a readiness check: name says what it checks ("layer",
// "telegram"), fn returns nil while it passes. fn gets a context that ends
// after the timeout; a check that ignores it is reported failing when the
// timeout passes and left to finish on its own.
//
// AddCheck panics on an empty name, a nil fn or a name already added:
// those are wiring mistakes that would otherwise show as a probe that
// never fails or reports the wrong thing.
func (h *Health) AddCheck(name string, fn func(ctx context.Context) error) {
	if name == "" || fn == nil {
		panic("ops: AddCheck needs a name and a check")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.checks {
		if c.name == name {
			panic(fmt.Sprintf("ops: AddCheck: check %q added twice", name))
		}
	}
	h.checks = append(h.checks, check{name, fn})
}

// Names returns the names of the readiness checks, in the order they were
// added.
func (h *Health) Names() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	names := make([]string, len(h.checks))
	for i, c := range h.checks {
		names[i] = c.name
	}
	return names
}

// Check runs every readiness check at once and returns those that failed,
// in the order they were added; none means ready. It returns within about
// the timeout, or sooner when ctx ends.
func (h *Health) Check(ctx context.Context) []Failure {
	h.mu.RLock()
	checks := h.checks // AddCheck only appends, so this view stays valid
	h.mu.RUnlock()
	if len(checks) == 0 {
		return nil
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// Buffered, so that a check that outlives the timeout can still
	// deliver its result and its goroutine end.
	results := make([]chan error, len(checks))
	for i, c := range checks {
		results[i] = make(chan error, 1)
		go func() { results[i] <- run(ctx, c.fn) }()
	}
	var failed []Failure
	for i, c := range checks {
		var err error
		select {
		case err = <-results[i]:
		case <-ctx.Done():
			// Prefer a result that is already there over the timeout.
			select {
			case err = <-results[i]:
			default:
				err = fmt.Errorf("no answer within %v: %w", timeout, ctx.Err())
			}
		}
		if err != nil {
			failed = append(failed, Failure{c.name, err})
		}
	}
	return failed
}

// run calls fn, turning a panic into an error: the check runs on a
// goroutine of its own, where a panic would otherwise stop the process.
func run(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(ctx)
}

// Live serves liveness: 200 "ok" for as long as the process can answer
// HTTP at all. It runs no checks, on purpose: a liveness probe that fails
// makes the orchestrator restart the process, which cures a deadlock but
// not a Redis outage.
func (h *Health) Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !probeMethod(w, r) {
			return
		}
		writeText(w, http.StatusOK, "ok\n")
	})
}

// Ready serves readiness: 200 "ok" when every check passes, else 503 with
// one line per failing check, "name: error", so that whoever reads the
// probe's output sees what is wrong without digging through logs.
func (h *Health) Ready() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !probeMethod(w, r) {
			return
		}
		failed := h.Check(r.Context())
		if len(failed) == 0 {
			writeText(w, http.StatusOK, "ok\n")
			return
		}
		var b strings.Builder
		b.WriteString("not ready\n")
		for _, f := range failed {
			fmt.Fprintf(&b, "%s: %v\n", f.Name, f.Err)
		}
		writeText(w, http.StatusServiceUnavailable, b.String())
	})
}

// probeMethod allows GET and HEAD, which is all probes use, and answers
// anything else with 405.
func probeMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeText(w, http.StatusMethodNotAllowed, "method not allowed\n")
	return false
}

// writeText writes a plain-text answer that no cache may keep: a probe
// must see the state now.
func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
