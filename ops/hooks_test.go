package ops_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/ops"
)

// The adapters report their retries and waits to an adapters.Observer.
var _ adapters.Observer = (*ops.Metrics)(nil)

func TestOutboundHooks(t *testing.T) {
	m, reg := newMetrics(t)
	var retry func(string) = m.OutboundRetry
	var wait func(string, time.Duration) = m.RateLimitWait
	retry("telegram")
	retry("telegram")
	retry("slack")
	wait("telegram", 1500*time.Millisecond)
	wait("telegram", 500*time.Millisecond)
	wait("slack", 0) // nothing waited, nothing added

	want := `
# HELP switchboard_outbound_retries_total Platform requests an adapter retried, by adapter.
# TYPE switchboard_outbound_retries_total counter
switchboard_outbound_retries_total{adapter="slack"} 1
switchboard_outbound_retries_total{adapter="telegram"} 2
# HELP switchboard_rate_limit_wait_seconds_total Time adapters waited for platform rate limits, by adapter.
# TYPE switchboard_rate_limit_wait_seconds_total counter
switchboard_rate_limit_wait_seconds_total{adapter="telegram"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchboard_outbound_retries_total", "switchboard_rate_limit_wait_seconds_total"); err != nil {
		t.Fatal(err)
	}
}

func TestNilMetricsHooksDoNothing(t *testing.T) {
	var m *ops.Metrics
	m.OutboundRetry("telegram")
	m.RateLimitWait("telegram", time.Second)
}

func TestNewMetricsRegistration(t *testing.T) {
	if _, err := ops.NewMetrics(nil); err == nil {
		t.Fatal("NewMetrics(nil) succeeded")
	}
	_, reg := newMetrics(t)
	if _, err := ops.NewMetrics(reg); err == nil {
		t.Fatal("second NewMetrics on one registry succeeded")
	}
	// Nothing is registered on the default registry.
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "switchboard_") {
			t.Fatalf("%s is on the default registry", mf.GetName())
		}
	}
}
