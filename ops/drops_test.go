package ops_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/layer"
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
# HELP switchboard_layer_messages_dropped_total Layer messages consumers dropped because they could not handle them or keep up with them, by message type and reason (no_handler, undecodable, backlog_full, send_failed; for conversation channels also no_conversation, no_adapter, not_serving).
# TYPE switchboard_layer_messages_dropped_total counter
switchboard_layer_messages_dropped_total{reason="no_handler",type="chat.message"} 2
switchboard_layer_messages_dropped_total{reason="undecodable",type="room.message"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "switchboard_layer_messages_dropped_total"); err != nil {
		t.Fatal(err)
	}
}

var _ layer.SkipObserver = (*ops.Metrics)(nil)

// TestGroupSendSkippedCountsByGroup checks the metric a layer's skipped
// group deliveries reach, through the layer's reporter, which bounds the
// groups it names.
func TestGroupSendSkippedCountsByGroup(t *testing.T) {
	m, reg := newMetrics(t)
	r := layer.NewSkipReporter(nil, m, 0, nil)
	r.Skipped("room.a", 3, 10)
	r.Skipped("room.a", 2, 10)
	for i := range layer.MaxSkipGroups + 5 {
		r.Skipped(fmt.Sprintf("many.%d", i), 1, 1)
	}
	(*ops.Metrics)(nil).GroupSendSkipped("x", 1) // a nil *Metrics counts nothing
	if got := testutil.ToFloat64(m.SkippedFor("room.a")); got != 5 {
		t.Errorf("room.a: %v skipped, want 5", got)
	}
	// room.a and the first 99 others are named; the last 6 are "other".
	if got := testutil.ToFloat64(m.SkippedFor(layer.SkipOtherGroup)); got != 6 {
		t.Errorf("other: %v skipped, want 6", got)
	}
	if n, err := testutil.GatherAndCount(reg, "switchboard_layer_group_skipped_total"); err != nil || n != layer.MaxSkipGroups+1 {
		t.Errorf("%d series (%v), want %d", n, err, layer.MaxSkipGroups+1)
	}
}
