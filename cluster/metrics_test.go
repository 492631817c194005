package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-bots/switchboard/cluster"
)

// Each process reports the partitions it owns and their lag, and what it
// took and claimed.
func TestMetrics(t *testing.T) {
	addr := startRedis(t)
	cfg := cluster.Config{Partitions: 4, Lease: 300 * time.Millisecond}
	r := newRecord()
	r.gate, r.entered = make(chan struct{}), make(chan string, 1)
	a := startProc(t, single(addr), "t", "a", cfg, r)
	awaitOwned(t, 4, a)
	if err := a.in.Deliver(context.Background(), "k", msg{Key: "k", N: 1}, newScope("k"), nil); err != nil {
		t.Fatal(err)
	}
	<-r.entered // handling: one entry not yet acknowledged
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a.node.Collector())
	mfs, err := reg.Gather()
	close(r.gate)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			got[mf.GetName()] += v
		}
	}
	for name, want := range map[string]float64{
		"switchboard_intake_partition_owned":       4,
		"switchboard_intake_partition_lag":         1,
		"switchboard_intake_partition_taken_total": 4,
		"switchboard_intake_appended_total":        1,
	} {
		if got[name] != want {
			t.Errorf("%s: %v, want %v", name, got[name], want)
		}
	}
}
