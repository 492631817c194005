package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Profiles are served on the ops listener only when ops.pprof asks, and
// never on an adapter's public listener.
func TestPprofOptIn(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint("pprof=", on), func(t *testing.T) {
			s, _ := start(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
ops: {addr: "127.0.0.1:0", pprof: %t}
routes:
  websocket: {bot: wschat}
`, on))
			ops := fmt.Sprintf("http://%s", s.OpsAddr())
			code, body := get(t, ops+"/debug/pprof/heap?debug=1&gc=1")
			if on && (code != 200 || !strings.Contains(body, "heap profile")) {
				t.Fatalf("heap profile: %d %.200s", code, body)
			}
			if !on && code != http.StatusNotFound {
				t.Fatalf("pprof off, yet /debug/pprof/heap answered %d", code)
			}
			if code, body := get(t, ops+"/metrics"); code != 200 || !strings.Contains(body, "go_memstats_heap_alloc_bytes") {
				t.Fatalf("/metrics beside pprof: %d", code)
			}
			if code, _ := get(t, ops+"/healthz"); code != 200 {
				t.Fatalf("/healthz beside pprof: %d", code)
			}
			if code, _ := get(t, fmt.Sprintf("http://%s/debug/pprof/", s.WebSocketAddr())); code == 200 {
				t.Fatal("the WebSocket listener serves profiles")
			}
		})
	}
}
