package status

import (
	"embed"
	"net/http"
	"strconv"
)

//go:embed web
var web embed.FS

// The page's paths on the ops listener.
const (
	PagePath = "/status"
	JSONPath = "/status.json"
	// assetsPath holds the page's script and style sheet; the page names
	// them relative to itself, so that it works behind a proxy's prefix.
	assetsPath = "/status/"
)

// contentSecurityPolicy lets the page load only its own script, style and
// JSON, be framed by nobody and submit nothing: no CDN, no inline code.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Wrap serves the page at PagePath, its JSON at JSONPath and its assets
// under /status/, and passes every other request to next: the ops
// listener's /metrics, /healthz and /readyz. It is guarded like them: only
// GET and HEAD, on the ops listener's bounds, and it shows no
// configuration value, only names, counts, states and the log's own
// (masked) words. Each request serves the last sample, encoded once per
// interval; before the first, /status.json answers 503.
func (s *Status) Wrap(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.HandleFunc(PagePath, func(w http.ResponseWriter, r *http.Request) {
		s.serveFile(w, r, "web/index.html", "text/html; charset=utf-8")
	})
	mux.HandleFunc(assetsPath+"app.js", func(w http.ResponseWriter, r *http.Request) {
		s.serveFile(w, r, "web/app.js", "text/javascript; charset=utf-8")
	})
	mux.HandleFunc(assetsPath+"style.css", func(w http.ResponseWriter, r *http.Request) {
		s.serveFile(w, r, "web/style.css", "text/css; charset=utf-8")
	})
	mux.HandleFunc(JSONPath, s.serveJSON)
	return mux
}

// guard answers what the page's routes refuse, and sets the headers every
// answer of theirs carries. It reports whether to go on.
func guard(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	// A page of another site may make a browser send a request here,
	// but never read the answer (no CORS header); refuse it all the
	// same, so that it costs the server nothing.
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return false
	}
	return true
}

func (s *Status) serveFile(w http.ResponseWriter, r *http.Request, name, contentType string) {
	if !guard(w, r) {
		return
	}
	b, err := web.ReadFile(name)
	if err != nil { // embedded: cannot happen
		http.Error(w, "missing "+name, http.StatusInternalServerError)
		return
	}
	write(w, r, contentType, b)
}

func (s *Status) serveJSON(w http.ResponseWriter, r *http.Request) {
	if !guard(w, r) {
		return
	}
	b := s.JSON()
	if b == nil {
		http.Error(w, "no sample yet", http.StatusServiceUnavailable)
		return
	}
	write(w, r, "application/json", b)
}

func write(w http.ResponseWriter, r *http.Request, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
