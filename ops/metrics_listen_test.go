package ops_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/ops"
)

var _ adapters.ListenObserver = (*ops.Metrics)(nil)

func TestListenRefusedCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := ops.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := adapters.NewReport(m, "webhook")
	r.Refused(adapters.ReasonMaxConns)
	r.Refused(adapters.ReasonMaxConns)
	r.Refused(adapters.ReasonBodyBudget)
	want := `
# HELP switchboard_listener_refused_total Connections and requests a bounded listener refused at once, by listener (the adapter's name, or ops) and reason (max_conns, max_conns_per_client, body_budget).
# TYPE switchboard_listener_refused_total counter
switchboard_listener_refused_total{listener="webhook",reason="body_budget"} 1
switchboard_listener_refused_total{listener="webhook",reason="max_conns"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "switchboard_listener_refused_total"); err != nil {
		t.Fatal(err)
	}
	(*ops.Metrics)(nil).ListenRefused("x", "y") // a nil *Metrics does nothing
}
