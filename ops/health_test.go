package ops_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/ops"
)

// get requests path from h and returns the status and body.
func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestReadyFlipsWhenCheckPasses(t *testing.T) {
	var h ops.Health
	var connected atomic.Bool
	h.AddCheck("telegram", func(context.Context) error {
		if !connected.Load() {
			return errors.New("not connected")
		}
		return nil
	})
	h.AddCheck("layer", func(context.Context) error { return nil })

	code, body := get(t, h.Ready(), "GET", "/readyz")
	if code != http.StatusServiceUnavailable || body != "not ready\ntelegram: not connected\n" {
		t.Fatalf("before connecting: %d %q", code, body)
	}
	connected.Store(true)
	code, body = get(t, h.Ready(), "GET", "/readyz")
	if code != http.StatusOK || body != "ok\n" {
		t.Fatalf("after connecting: %d %q", code, body)
	}
}

func TestReadyTimesOutAndRecoversPanics(t *testing.T) {
	h := ops.Health{Timeout: 20 * time.Millisecond}
	release := make(chan struct{})
	finished := make(chan struct{})
	// A check that ignores its context must not hold up the probe.
	h.AddCheck("stuck", func(context.Context) error {
		defer close(finished)
		<-release
		return nil
	})
	h.AddCheck("buggy", func(context.Context) error { panic("nil map") })
	h.AddCheck("fine", func(context.Context) error { return nil })

	begin := time.Now()
	code, body := get(t, h.Ready(), "GET", "/readyz")
	if took := time.Since(begin); took > time.Second {
		t.Errorf("probe took %v with a 20ms timeout", took)
	}
	close(release)
	<-finished

	want := "not ready\nstuck: no answer within 20ms: context deadline exceeded\nbuggy: panic: nil map\n"
	if code != http.StatusServiceUnavailable || body != want {
		t.Fatalf("got %d %q, want 503 %q", code, body, want)
	}
}

func TestLiveAndMethods(t *testing.T) {
	var h ops.Health
	h.AddCheck("down", func(context.Context) error { return errors.New("down") })
	// Liveness ignores readiness checks.
	if code, body := get(t, h.Live(), "GET", "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("live: %d %q", code, body)
	}
	if code, _ := get(t, h.Live(), "HEAD", "/healthz"); code != 200 {
		t.Fatalf("HEAD live: %d", code)
	}
	rec := httptest.NewRecorder()
	h.Ready().ServeHTTP(rec, httptest.NewRequest("POST", "/readyz", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestAddCheckRejectsMistakes(t *testing.T) {
	ok := func(context.Context) error { return nil }
	for name, add := range map[string]func(*ops.Health){
		"empty name": func(h *ops.Health) { h.AddCheck("", ok) },
		"nil check":  func(h *ops.Health) { h.AddCheck("x", nil) },
		"duplicate":  func(h *ops.Health) { h.AddCheck("x", ok); h.AddCheck("x", ok) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p == nil || !strings.HasPrefix(p.(string), "ops: AddCheck") {
					t.Fatalf("recovered %v, want an AddCheck panic", p)
				}
			}()
			add(new(ops.Health))
		})
	}
}
