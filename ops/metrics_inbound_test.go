package ops_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/scope"
)

var _ adapters.DropObserver = (*ops.Metrics)(nil)

func TestInboundDroppedCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := ops.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r := adapters.NewReport(m, "irc")
	r.Dropped(fmt.Errorf("key #room: %w", scope.ErrInboxFull))
	r.Dropped(scope.ErrInboxFull)
	r.Dropped(errors.New("not UTF-8"))
	want := `
# HELP switchboard_inbound_dropped_total Inbound events an adapter let go because its platform does not send them again (IRC, XMPP, Discord's gateway), by adapter and reason (inbox_full, unfit).
# TYPE switchboard_inbound_dropped_total counter
switchboard_inbound_dropped_total{adapter="irc",reason="inbox_full"} 2
switchboard_inbound_dropped_total{adapter="irc",reason="unfit"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "switchboard_inbound_dropped_total"); err != nil {
		t.Fatal(err)
	}
	(*ops.Metrics)(nil).InboundDropped("x", "y") // a nil *Metrics does nothing
}
