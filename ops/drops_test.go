package ops_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/ops"
)

var _ consumer.DropObserver = (*ops.Metrics)(nil)

func TestLayerMessageDroppedCountsByTypeAndReason(t *testing.T) {
	m, reg := newMetrics(t)
	m.LayerMessageDropped("chat.message", consumer.DropNoHandler)
	m.LayerMessageDropped("chat.message", consumer.DropNoHandler)
	m.LayerMessageDropped("room.message", consumer.DropUndecodable)
	(*ops.Metrics)(nil).LayerMessageDropped("x", "y") // a nil *Metrics counts nothing
	want := `
# HELP switchboard_layer_messages_dropped_total Layer messages consumers dropped because they could not handle them, by message type and reason (no_handler, undecodable).
# TYPE switchboard_layer_messages_dropped_total counter
switchboard_layer_messages_dropped_total{reason="no_handler",type="chat.message"} 2
switchboard_layer_messages_dropped_total{reason="undecodable",type="room.message"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "switchboard_layer_messages_dropped_total"); err != nil {
		t.Fatal(err)
	}
}
