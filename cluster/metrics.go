package cluster

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// Collector returns the Node's metrics, for a Prometheus registry: per
// partition it owns, that it owns it and its lag (entries appended and
// not yet acknowledged); per partition it ever took, how often it took it
// and the entries it claimed from a previous owner; and the Node's
// counters. Each process reports the partitions it owns, so the owner of
// a partition is the process reporting it. A scrape reads the lag from
// Redis: one XINFO GROUPS per owned partition, in one pipeline, for at
// most two seconds.
func (n *Node) Collector() prometheus.Collector { return collector{n} }

var (
	descOwned = prometheus.NewDesc("switchboard_intake_partition_owned",
		"1 for each intake partition this process owns.", []string{"partition"}, nil)
	descLag = prometheus.NewDesc("switchboard_intake_partition_lag",
		"Entries of an owned intake partition not yet acknowledged: read and pending, or not read yet.", []string{"partition"}, nil)
	descTaken = prometheus.NewDesc("switchboard_intake_partition_taken_total",
		"Times this process took an intake partition (rebalances and failovers).", []string{"partition"}, nil)
	descClaimed = prometheus.NewDesc("switchboard_intake_partition_claimed_total",
		"Entries of an intake partition claimed from a previous owner.", []string{"partition"}, nil)
)

func counterDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("switchboard_intake_"+name+"_total", help, nil, nil)
}

var (
	descAppended   = counterDesc("appended", "Events appended to the intake by this process.")
	descDuplicates = counterDesc("duplicates", "Entries dropped for a platform id another entry carried.")
	descHandled    = counterDesc("handled", "Entries acknowledged after their handler returned.")
	descDropped    = counterDesc("dropped", "Entries that could not be read, acknowledged unhandled, or pending but gone from the stream.")
	descLost       = counterDesc("lost", "Partitions lost: a renewal failed or an acknowledgement was fenced out.")
	descRebalances = counterDesc("rebalances", "Balancing rounds that changed the partitions this process owns.")
)

type collector struct{ n *Node }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOwned, descLag, descTaken, descClaimed,
		descAppended, descDuplicates, descHandled, descDropped, descLost, descRebalances} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	n.mu.Lock()
	k := n.counter
	taken, claimed := make(map[int]int64, len(n.taken)), make(map[int]int64, len(n.claimed))
	for p, v := range n.taken {
		taken[p] = v
	}
	for p, v := range n.claimed {
		claimed[p] = v
	}
	n.mu.Unlock()
	for d, v := range map[*prometheus.Desc]int64{descAppended: k.Appended, descDuplicates: k.Duplicates,
		descHandled: k.Handled, descDropped: k.Dropped, descLost: k.Lost, descRebalances: k.Rebalances} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	for p, v := range taken {
		ch <- prometheus.MustNewConstMetric(descTaken, prometheus.CounterValue, float64(v), strconv.Itoa(p))
	}
	for p, v := range claimed {
		ch <- prometheus.MustNewConstMetric(descClaimed, prometheus.CounterValue, float64(v), strconv.Itoa(p))
	}
	owned := n.Owned()
	if len(owned) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cmds := make([]*goredis.XInfoGroupsCmd, len(owned))
	_, _ = n.c.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, p := range owned {
			cmds[i] = pipe.XInfoGroups(ctx, n.keys.stream(p))
		}
		return nil
	})
	for i, p := range owned {
		part := strconv.Itoa(p)
		ch <- prometheus.MustNewConstMetric(descOwned, prometheus.GaugeValue, 1, part)
		groups, err := cmds[i].Result()
		if err != nil {
			continue
		}
		for _, g := range groups {
			if g.Name == group {
				ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(g.Pending+max(g.Lag, 0)), part)
			}
		}
	}
}
