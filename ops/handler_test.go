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

	"github.com/switchboard-bots/switchboard/ops"
)

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestHandlerServesScrapesAndProbes drives an application through the
// middleware and reads the result the way Prometheus and a probe would.
func TestHandlerServesScrapesAndProbes(t *testing.T) {
	m, reg := newMetrics(t)
	var h ops.Health
	var layerUp atomic.Bool
	h.AddCheck("layer", func(context.Context) error {
		if !layerUp.Load() {
			return errors.New("dial tcp: connection refused")
		}
		return nil
	})
	srv := httptest.NewServer(ops.Handler(reg, &h))
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()

	app := m.Middleware()(pongApp())
	inst := start(t, app, "websocket", "a", new(conn))
	for range 3 {
		handle(t, inst, ping{})
	}
	start(t, app, "websocket", "b", new(conn))
	handle(t, inst, disconnect{"closed"})
	m.OutboundRetry("telegram")

	code, body := fetch(t, srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range []string{
		`switchboard_events_in_total{protocol="websocket",type="test.ping"} 3`,
		`switchboard_events_out_total{protocol="websocket",type="test.pong"} 3`,
		`switchboard_scopes_live{protocol="websocket"} 1`,
		`switchboard_scope_ends_total{protocol="websocket",reason="closed"} 1`,
		`switchboard_handler_seconds_count{protocol="websocket"} 4`,
		`switchboard_outbound_retries_total{adapter="telegram"} 1`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}

	if code, body := fetch(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	code, body = fetch(t, srv.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "layer: dial tcp: connection refused") {
		t.Fatalf("/readyz while the layer is down: %d %q", code, body)
	}
	layerUp.Store(true)
	if code, body := fetch(t, srv.URL+"/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz once the layer is up: %d %q", code, body)
	}
}

func TestHandlerWithoutHealthIsReady(t *testing.T) {
	_, reg := newMetrics(t)
	if code, body := get(t, ops.Handler(reg, nil), "GET", "/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
}
