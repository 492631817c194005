package cluster_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
)

// BenchmarkDurableOnRedisCluster runs the durable intake on a Redis Cluster
// of three masters (each a redis-server of the benchmark's own on this
// machine), with three processes in the benchmark binary: b.N events, each
// with a platform id, across 1,000 conversations, taken by all three
// processes at once and handled by a handler that returns at once. It
// reports, per master, the commands it ran a second (INFO commandstats,
// commands run by scripts included) and, in all, events a second and
// commands per event; then, with no owner reading, the memory an entry
// holds in its stream and a duplicate mark holds (MEMORY USAGE).
func BenchmarkDurableOnRedisCluster(b *testing.B) {
	newClient := startRedisCluster(b)
	cfg := cluster.Config{Partitions: 64, Lease: 2 * time.Second}
	r := newRecord()
	procs := []*proc{startProc(b, newClient, "bench", "a", cfg, r), startProc(b, newClient, "bench", "b", cfg, r),
		startProc(b, newClient, "bench", "c", cfg, r)}
	awaitShared(b, cfg.Partitions, procs)
	ctx := context.Background()
	cc := newClient(b).(*goredis.ClusterClient)
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		return m.ConfigResetStat(ctx).Err()
	}); err != nil {
		b.Fatal(err)
	}

	cpu0 := redisCPU(b, cc)
	const convs, senders = 1000, 24
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			p := procs[s%len(procs)]
			for i := s; i < b.N; i += senders {
				k := key(i % convs)
				m := msg{Key: k, N: i, ID: "u" + strconv.Itoa(i)}
				if err := p.in.Deliver(ctx, k, m, newScope(k), nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	r.await(b, 5*time.Minute, "every event handled", func() bool { return r.total >= b.N })
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := redisCPU(b, cc) - cpu0

	var total int64
	var perNode []float64
	byCmd := map[string]int64{}
	var mu sync.Mutex
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		st, err := commandStats(ctx, m)
		mu.Lock()
		defer mu.Unlock()
		var n int64
		for name, c := range st {
			n += c.calls
			byCmd[name] += c.calls
		}
		total += n
		perNode = append(perNode, float64(n)/elapsed.Seconds())
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if testing.Verbose() {
		b.Logf("commands per event by name: %v (b.N=%d)", perEvent(byCmd, b.N), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(total)/float64(b.N), "cmds/event")
	b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "redis-cpu-µs/event")
	lo, hi := perNode[0], perNode[0]
	for _, v := range perNode {
		lo, hi = min(lo, v), max(hi, v)
	}
	b.ReportMetric(lo, "min-node-cmds/s")
	b.ReportMetric(hi, "max-node-cmds/s")

	// Memory: entries appended while nobody reads them stay in the stream.
	for _, p := range procs {
		p.shutdown(b)
	}
	appender, err := cluster.New(newClient(b), "bench-mem", cluster.Config{Partitions: 1})
	if err != nil {
		b.Fatal(err)
	}
	const entries = 2000
	for i := range entries {
		k := key(i % convs)
		sc := newScope(k)()
		sc.Key = k
		rec := adapters.Record{Adapter: "fake", Key: k, Scope: sc, Event: msg{Key: k, N: i, ID: "m" + strconv.Itoa(i)},
			ID: "m" + strconv.Itoa(i)}
		if err := appender.Append(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	stream := "bench-mem:intake:{0}"
	used, err := cc.MemoryUsage(ctx, stream, 0).Result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(used)/entries, "B/entry")
	mark, err := cc.MemoryUsage(ctx, "bench:intake:{0}:seen:fake:u0").Result()
	if err != nil {
		mark, err = sampleMark(ctx, cc)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(mark), "B/mark")
}

// awaitShared waits until procs own every partition between them.
func awaitShared(b *testing.B, parts int, procs []*proc) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, each := 0, true
		for _, p := range procs {
			n += len(p.node.Owned())
			each = each && len(p.node.Owned()) > 0
		}
		if n == parts && each {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d partitions owned", n, parts)
		}
		time.Sleep(10 * time.Millisecond) // leases are taken on the wall clock
	}
}

type commandStat struct{ calls int64 }

// commandStats returns, by command, the calls INFO commandstats counts on
// m (commands run by scripts included), but not the INFO and CONFIG of
// the benchmark itself.
func commandStats(ctx context.Context, m *goredis.Client) (map[string]commandStat, error) {
	info, err := m.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]commandStat{}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd || name == "info" || strings.HasPrefix(name, "config") {
			continue
		}
		var c commandStat
		for field := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(field, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			if k == "calls" {
				c.calls = n
			}
		}
		out[name] = c
	}
	return out, nil
}

// perEvent divides counts by n, rounded to hundredths.
func perEvent(counts map[string]int64, n int) map[string]float64 {
	out := make(map[string]float64, len(counts))
	for k, v := range counts {
		out[k] = float64(v*100/int64(n)) / 100
	}
	return out
}

// sampleMark returns the memory of one duplicate mark, found by a scan.
func sampleMark(ctx context.Context, cc *goredis.ClusterClient) (int64, error) {
	var found int64
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		keys, _, err := m.Scan(ctx, 0, "bench:intake:*:seen:*", 1000).Result()
		if err != nil || len(keys) == 0 {
			return err
		}
		n, err := m.MemoryUsage(ctx, keys[0]).Result()
		if err == nil && n > found {
			found = n
		}
		return err
	})
	return found, err
}

// redisCPU returns the CPU time every master of cc used so far (INFO cpu).
func redisCPU(b *testing.B, cc *goredis.ClusterClient) time.Duration {
	var mu sync.Mutex
	var total time.Duration
	err := cc.ForEachMaster(context.Background(), func(ctx context.Context, m *goredis.Client) error {
		info, err := m.Info(ctx, "cpu").Result()
		if err != nil {
			return err
		}
		for line := range strings.Lines(info) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
			if k != "used_cpu_sys" && k != "used_cpu_user" {
				continue
			}
			f, _ := strconv.ParseFloat(v, 64)
			mu.Lock()
			total += time.Duration(f * float64(time.Second))
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}
