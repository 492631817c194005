package status_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/ops/status"
)

func serve(h http.Handler, method, path string, header ...string) *http.Response {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPageRoutes: the page, its assets and its JSON are served with a
// policy that lets them load only themselves; other paths reach the ops
// handler; methods other than GET and HEAD, and cross-site requests, are
// refused.
func TestPageRoutes(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ops "+r.URL.Path) })
	st := status.New(status.Sources{}, status.Options{Now: clocktest.New(time.Unix(0, 0)).Now, Process: &status.Process{Host: "h"}})
	h := st.Wrap(next)

	if resp := serve(h, "GET", "/status.json"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/status.json before the first sample: %d, want 503", resp.StatusCode)
	}
	st.Sample(t.Context())

	for _, c := range []struct{ path, ctype, has string }{
		{"/status", "text/html; charset=utf-8", `<script src="status/app.js"`},
		{"/status/app.js", "text/javascript; charset=utf-8", "status.json"},
		{"/status/style.css", "text/css; charset=utf-8", "canvas.chart"},
		{"/status.json", "application/json", `"host":"h"`},
	} {
		resp := serve(h, "GET", c.path)
		b := body(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype || !strings.Contains(b, c.has) {
			t.Errorf("%s: %d %q, body has %q: %v", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.has, strings.Contains(b, c.has))
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", c.path, resp.Header)
		}
	}
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(body(t, serve(h, "GET", "/status.json"))), &snap); err != nil || snap.Process.Host != "h" || snap.Adapters == nil {
		t.Fatalf("/status.json: %+v, %v", snap, err)
	}
	if resp := serve(h, "HEAD", "/status.json"); resp.StatusCode != 200 || body(t, resp) != "" || resp.Header.Get("Content-Length") == "0" {
		t.Fatalf("HEAD: %d, length %q", resp.StatusCode, resp.Header.Get("Content-Length"))
	}
	for _, p := range []string{"/metrics", "/readyz", "/statusx", "/status/nothing.js"} {
		if b := body(t, serve(h, "GET", p)); b != "ops "+p {
			t.Errorf("%s reached %q, want the ops handler", p, b)
		}
	}
	if resp := serve(h, "POST", "/status"); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if resp := serve(h, "GET", "/status.json", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site request: %d, want 403", resp.StatusCode)
	}
	if resp := serve(h, "GET", "/status.json", "Sec-Fetch-Site", "same-origin"); resp.StatusCode != 200 {
		t.Fatalf("the page's own request: %d", resp.StatusCode)
	}
}

// TestPageUsesNoMarkupFromData: the page's script sets what the server
// says only as text, so a conversation key or a log line cannot inject
// markup or script.
func TestPageUsesNoMarkupFromData(t *testing.T) {
	js := body(t, serve(status.New(status.Sources{}, status.Options{}).Wrap(http.NotFoundHandler()), "GET", "/status/app.js"))
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(js, sink) {
			t.Errorf("app.js uses %s", sink)
		}
	}
}
