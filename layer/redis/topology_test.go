package redis_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// waitFor polls check every few milliseconds until it reports nil, and
// fails t with its last report once within has passed: topologies form
// and fail over on timers of their own, so the tests wait for the state
// they need, never for a fixed time.
func waitFor(t testing.TB, within time.Duration, what string, check func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cluster is a Redis Cluster of three masters without replicas, each a
// server of the test's own holding a third of the slots.
type cluster struct {
	nodes []*server
	buses []int // the nodes' cluster bus ports
	Addrs []string
}

// clusterNodeTimeout is how long a node may not answer before the others
// call it failed, and half how long they take to take it back once it
// answers again: a tenth of the default, so that a restart slow enough to
// be noticed costs seconds rather than half a minute.
const clusterNodeTimeout = "2000"

func startCluster(t testing.TB) *cluster {
	t.Helper()
	c := buildCluster(t, 3, 3, clusterNodeTimeout)
	c.waitOK(t)
	return c
}

// buildCluster starts nodes cluster nodes, of which the first masters
// share the slots, and introduces them to each other; the rest are left
// for the caller to make replicas.
func buildCluster(t testing.TB, nodes, masters int, nodeTimeout string) *cluster {
	t.Helper()
	c := &cluster{}
	for range nodes {
		s := newServer(t)
		// The bus port is chosen too, rather than left at port+10000,
		// which may be taken or out of range.
		bus := porttest.Port(t)
		s.args = append(s.dataArgs(),
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", nodeTimeout, "--cluster-port", strconv.Itoa(bus),
			// A master would otherwise wait five seconds for more
			// replicas before its first full synchronisation.
			"--repl-diskless-sync-delay", "0")
		s.start()
		c.nodes = append(c.nodes, s)
		c.buses = append(c.buses, bus)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	ctx := context.Background()
	const slots = 16384
	for i, s := range c.nodes {
		a := s.client()
		var err error
		if i < masters {
			lo, hi := i*slots/masters, (i+1)*slots/masters-1
			// Distinct epochs spare the nodes resolving a collision
			// before they agree on who owns what.
			err = a.Do(ctx, "cluster", "set-config-epoch", i+1).Err()
			if err == nil {
				err = a.ClusterAddSlotsRange(ctx, lo, hi).Err()
			}
		}
		if err == nil && i > 0 {
			err = a.Do(ctx, "cluster", "meet", "127.0.0.1", c.nodes[0].port, c.buses[0]).Err()
		}
		_ = a.Close()
		if err != nil {
			t.Fatalf("building the cluster at %s: %v", s.Addr, err)
		}
	}
	return c
}

// waitOK waits until every node knows every other and says the cluster
// is ok, which a node does once every slot is served.
func (c *cluster) waitOK(t testing.TB) {
	t.Helper()
	for _, s := range c.nodes {
		a := s.client()
		waitFor(t, 20*time.Second, "cluster state ok on "+s.Addr, func(ctx context.Context) error {
			info, err := a.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			want := fmt.Sprintf("cluster_known_nodes:%d", len(c.nodes))
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, want) {
				return fmt.Errorf("CLUSTER INFO says\n%s", info)
			}
			return nil
		})
		_ = a.Close()
	}
}

// restart kills every node, as a power cut would, and starts them again
// on the same ports and directories, where they find their data and their
// view of the cluster.
func (c *cluster) restart(t testing.TB) {
	t.Helper()
	for _, s := range c.nodes {
		s.stop()
	}
	for _, s := range c.nodes {
		s.start()
	}
	c.waitOK(t)
}

// flushScripts empties every node's script cache, as a restart would.
func (c *cluster) flushScripts(t testing.TB) {
	t.Helper()
	for _, s := range c.nodes {
		a := s.client()
		err := a.ScriptFlush(context.Background()).Err()
		_ = a.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// keysOn returns, for each node, how many keys under prefix it holds.
func (c *cluster) keysOn(t testing.TB, prefix string) []int {
	t.Helper()
	n := make([]int, len(c.nodes))
	for i, s := range c.nodes {
		a := s.client()
		keys, err := a.Keys(context.Background(), prefix+"*").Result()
		_ = a.Close()
		if err != nil {
			t.Fatal(err)
		}
		n[i] = len(keys)
	}
	return n
}

// sentinels is a master, one replica of it and a Sentinel watching them,
// all servers of the test's own. The sentinel calls the master down after
// a second without an answer and then promotes the replica.
type sentinels struct {
	data     []*server // master and replica, in the roles they started in
	sentinel *server
	Name     string
	Addrs    []string // of the sentinels
}

func startSentinels(t testing.TB) *sentinels {
	t.Helper()
	// The master would otherwise wait five seconds for more replicas
	// before its first full synchronisation.
	const noDelay = "--repl-diskless-sync-delay"
	master := startServer(t, noDelay, "0")
	replica := startServer(t, noDelay, "0", "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	st := &sentinels{data: []*server{master, replica}, Name: "sbmaster"}
	// A sentinel finds replicas in its first INFO of the master, so the
	// replica is synchronised before the sentinel starts.
	waitFor(t, 10*time.Second, "replica in sync", func(ctx context.Context) error {
		return inSync(ctx, replica)
	})

	s := newServer(t)
	conf := filepath.Join(s.dir, "sentinel.conf")
	text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d 1
sentinel down-after-milliseconds %[4]s 1000
sentinel failover-timeout %[4]s 5000
`, s.port, s.dir, s.logFile(), st.Name, master.port)
	// The sentinel rewrites its configuration as it learns, so the file
	// is its own and writable.
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s.args = []string{conf, "--sentinel"}
	s.start()
	st.sentinel = s
	st.Addrs = []string{s.Addr}

	sc := st.client()
	defer sc.Close()
	waitFor(t, 10*time.Second, "sentinel sees the replica", func(ctx context.Context) error {
		rs, err := sc.Replicas(ctx, st.Name).Result()
		if err != nil {
			return err
		}
		if len(rs) != 1 || rs[0]["flags"] != "slave" || rs[0]["master-link-status"] != "ok" {
			return fmt.Errorf("SENTINEL REPLICAS says %v", rs)
		}
		return nil
	})
	return st
}

// inSync reports nil once s is a replica whose link to its master is up
// and whose first synchronisation is done.
func inSync(ctx context.Context, s *server) error {
	a := s.client()
	defer a.Close()
	info, err := a.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_link_status:up") ||
		strings.Contains(info, "master_sync_in_progress:1") {
		return fmt.Errorf("INFO replication says\n%s", info)
	}
	return nil
}

func (st *sentinels) client() *goredis.SentinelClient {
	return goredis.NewSentinelClient(&goredis.Options{Addr: st.sentinel.Addr, MaxRetries: -1})
}

// masterAddr is where the sentinel says the master is.
func (st *sentinels) masterAddr(ctx context.Context) (string, error) {
	sc := st.client()
	defer sc.Close()
	a, err := sc.GetMasterAddrByName(ctx, st.Name).Result()
	if err != nil {
		return "", err
	}
	return a[0] + ":" + a[1], nil
}

// server returns the data node at addr, or nil.
func (st *sentinels) server(addr string) *server {
	for _, s := range st.data {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// master returns the node the sentinel calls master.
func (st *sentinels) master(t testing.TB) *server {
	t.Helper()
	addr, err := st.masterAddr(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := st.server(addr)
	if s == nil {
		t.Fatalf("the sentinel names %s, which is none of the test's servers", addr)
	}
	return s
}

// failedOver waits until the sentinel names a master other than old, and
// that node says it is one.
func (st *sentinels) failedOver(t testing.TB, old string) *server {
	t.Helper()
	var addr string
	waitFor(t, 15*time.Second, "failover away from "+old, func(ctx context.Context) error {
		var err error
		if addr, err = st.masterAddr(ctx); err != nil {
			return err
		}
		if addr == old {
			return fmt.Errorf("the sentinel still names %s", old)
		}
		s := st.server(addr)
		if s == nil {
			return fmt.Errorf("the sentinel names %s, which is none of the test's servers", addr)
		}
		a := s.client()
		defer a.Close()
		role, err := a.Do(ctx, "role").Slice()
		if err != nil {
			return err
		}
		if role[0] != "master" {
			return fmt.Errorf("%s is a %v", addr, role[0])
		}
		return nil
	})
	return st.server(addr)
}

// switchover has the sentinel hand the master's role to the replica
// while both run, and waits until the old master follows the new one.
func (st *sentinels) switchover(t testing.TB) {
	t.Helper()
	old := st.master(t)
	sc := st.client()
	defer sc.Close()
	if err := sc.Failover(context.Background(), st.Name).Err(); err != nil {
		t.Fatal(err)
	}
	promoted := st.failedOver(t, old.Addr)
	// The sentinel demotes the old master only once it has claimed the
	// role for eight seconds more; until then it takes writes that nobody
	// will read. The test demotes it at once, as the sentinel then would.
	a := old.client()
	defer a.Close()
	if err := a.ReplicaOf(context.Background(), "127.0.0.1", strconv.Itoa(promoted.port)).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "old master following the new one", func(ctx context.Context) error {
		return inSync(ctx, old)
	})
}
