package cluster_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// startRedis starts a redis-server of the test's own on a free loopback
// port, stopped when the test ends, and returns its address.
func startRedis(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skipf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--dir", t.TempDir(), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a process that is starting
	}
}

// client returns a client of addr with room for a Node's blocking reads,
// closed when the test ends.
func client(t testing.TB, addr string) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 96})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startRedisCluster starts a Redis Cluster of three masters without
// replicas, each a redis-server of the test's own holding a third of the
// slots, and returns a function making clients of it.
func startRedisCluster(t testing.TB) func(testing.TB) goredis.UniversalClient {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skipf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	ctx := context.Background()
	var addrs []string
	var ports, buses []int
	for range 3 {
		port, bus := porttest.Port(t), porttest.Port(t)
		cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--dir", t.TempDir(), "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", fmt.Sprint(bus))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		awaitPing(t, addr)
		addrs, ports, buses = append(addrs, addr), append(ports, port), append(buses, bus)
	}
	const slots = 16384
	for i, addr := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		err := c.Do(ctx, "cluster", "set-config-epoch", i+1).Err()
		if err == nil {
			err = c.ClusterAddSlotsRange(ctx, i*slots/3, (i+1)*slots/3-1).Err()
		}
		if err == nil && i > 0 {
			err = c.Do(ctx, "cluster", "meet", "127.0.0.1", ports[0], buses[0]).Err()
		}
		_ = c.Close()
		if err != nil {
			t.Fatalf("building the cluster at %s: %v", addr, err)
		}
	}
	for _, addr := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		deadline := time.Now().Add(20 * time.Second)
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster not ok on %s: %v %s", addr, err, info)
			}
			time.Sleep(20 * time.Millisecond) // the nodes gossip on their own time
		}
		_ = c.Close()
	}
	return func(t testing.TB) goredis.UniversalClient {
		c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, PoolSize: 96})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
}

// awaitPing waits until a starting redis-server answers.
func awaitPing(t testing.TB, addr string) {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start", addr)
		}
		time.Sleep(10 * time.Millisecond) // a process that is starting
	}
}

// single returns a function making clients of the server at addr.
func single(addr string) func(testing.TB) goredis.UniversalClient {
	return func(t testing.TB) goredis.UniversalClient { return client(t, addr) }
}
