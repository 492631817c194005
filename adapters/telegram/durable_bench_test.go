package telegram_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/cluster"
)

// BenchmarkEchoDurable is BenchmarkEcho's "adapter" case through the
// durable intake: three processes (each a Telegram adapter, a Host and a
// cluster Node) on a redis-server of the benchmark's own; one polls, and
// each update is appended to its partition and answered by the partition's
// owner. No process polls before every partition has its owner. cmds/update is the Redis commands per update by INFO
// commandstats, membership and leases included, and redis-cpu-µs/update
// redis-server's CPU time per update by INFO cpu: with 64 partitions each
// is quiet and most reads and acknowledgements carry one entry; with 4
// each is busy and they carry many.
func BenchmarkEchoDurable(b *testing.B) {
	for _, parts := range []int{64, 4} {
		b.Run("partitions="+strconv.Itoa(parts), func(b *testing.B) { benchEchoDurable(b, parts) })
	}
}

func benchEchoDurable(b *testing.B, parts int) {
	addr := benchRedis(b)
	srv := telegramtest.New(b, telegramtest.WithoutRecording())
	const chats = 1000
	for i := range b.N {
		srv.Text(int64(1+i%chats), int64(1+i%chats), "hello")
	}
	// No process polls before every partition has its owner and the
	// counts are reset: every update's append is counted and timed.
	lease := &gatedLease{Lease: telegram.NewMemoryLease(nil), open: make(chan struct{})}
	var nodes []*cluster.Node
	var stops []func()
	for i := range 3 {
		c := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 96})
		b.Cleanup(func() { _ = c.Close() })
		node, err := cluster.New(c, "bench", cluster.Config{Partitions: parts, Lease: 2 * time.Second},
			cluster.WithID("p"+strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, node)
		cfg := testConfig(srv)
		cfg.Polling.Timeout = time.Second
		a, _ := newAdapter(b, cfg, telegram.WithLease(lease))
		r := start(b, a, echo.New(), adapters.WithJournal(node))
		stops = append(stops, func() { r.stop(b) })
	}
	awaitShares(b, nodes, parts)
	stat := goredis.NewClient(&goredis.Options{Addr: addr})
	defer stat.Close()
	if err := stat.ConfigResetStat(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	cpu0, redis0 := cpuTime(), redisCPU(b, stat)
	b.ResetTimer()
	start := time.Now()
	close(lease.open)
	if err := srv.AwaitSent(b.N, 5*time.Minute); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu, rcpu := cpuTime()-cpu0, redisCPU(b, stat)-redis0
	calls := commandCalls(b, stat)
	if testing.Verbose() {
		info, _ := stat.Info(context.Background(), "commandstats").Result()
		b.Logf("after %d updates:\n%s", b.N, info)
	}
	for _, stop := range stops {
		stop()
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/update")
	b.ReportMetric(float64(calls)/float64(b.N), "cmds/update")
	b.ReportMetric(float64(rcpu.Microseconds())/float64(b.N), "redis-cpu-µs/update")
}

// redisCPU returns the CPU time redis-server used so far, by INFO cpu:
// the other half of the durable path's cost, which cpu-µs/update (this
// process's) leaves out.
func redisCPU(b *testing.B, c *goredis.Client) time.Duration {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.Lines(info) {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_sys" || name == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// gatedLease is a poller's lease that no process acquires before open is
// closed.
type gatedLease struct {
	telegram.Lease
	open chan struct{}
}

func (l *gatedLease) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	select {
	case <-l.open:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return l.Lease.Acquire(ctx, key, owner, ttl)
}

// awaitShares waits until every partition has an owner among nodes, and
// each node owns some.
func awaitShares(b *testing.B, nodes []*cluster.Node, parts int) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, each := 0, true
		for _, node := range nodes {
			n += len(node.Owned())
			each = each && len(node.Owned()) > 0
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

// commandCalls sums the calls of every command INFO commandstats counts,
// commands run by scripts included, but not the INFO and CONFIG of the
// benchmark itself.
func commandCalls(b *testing.B, c *goredis.Client) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok || strings.HasPrefix(name, "cmdstat_info") || strings.HasPrefix(name, "cmdstat_config") {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		v, _ := strconv.ParseInt(n, 10, 64)
		total += v
	}
	return total
}

// benchRedis starts a redis-server of the benchmark's own, whose command
// counts it may reset.
func benchRedis(b *testing.B) string {
	if _, err := exec.LookPath("redis-server"); err != nil {
		b.Skipf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", b.TempDir(), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			b.Fatalf("redis-server on %s did not start", addr)
		}
		time.Sleep(10 * time.Millisecond) // a process that is starting
	}
	return addr
}
