package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// masters is how many masters a replicated cluster has; each has one
// replica.
const masters = 3

// failoverNodeTimeout is the replicated cluster's node timeout, half that
// of startCluster: a killed master is called failed after about a second
// and its replica takes over within a second more.
const failoverNodeTimeout = "1000"

// startReplicatedCluster starts a Redis Cluster of three masters, each
// holding a third of the slots, and a replica of each. Its nodes are the
// masters, then their replicas in the same order, so that the replica of
// nodes[i] is nodes[i+masters].
func startReplicatedCluster(t testing.TB) *cluster {
	t.Helper()
	c := buildCluster(t, 2*masters, masters, failoverNodeTimeout)
	ids := make([]string, masters)
	for i, s := range c.nodes[:masters] {
		a := s.client()
		var err error
		ids[i], err = a.ClusterMyID(context.Background()).Result()
		_ = a.Close()
		must(t, err)
	}
	// A node can follow only a master it has heard of, which gossip tells
	// it moments after it meets the cluster.
	for i, s := range c.nodes[masters:] {
		a := s.client()
		waitFor(t, 10*time.Second, s.Addr+" replicating "+c.nodes[i].Addr, func(ctx context.Context) error {
			return a.ClusterReplicate(ctx, ids[i]).Err()
		})
		_ = a.Close()
	}
	c.waitOK(t)
	for _, s := range c.nodes[masters:] {
		waitFor(t, 20*time.Second, "replica "+s.Addr+" in sync", func(ctx context.Context) error {
			return inSync(ctx, s)
		})
	}
	// A master votes for a replica's promotion only if it knows the
	// candidate as a replica of the failed master, so the roles must have
	// spread to every node before a master is killed.
	for _, s := range c.nodes {
		a := s.client()
		waitFor(t, 20*time.Second, "roles known to "+s.Addr, func(ctx context.Context) error {
			nodes, err := a.ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			following := make(map[string]int)
			for line := range strings.Lines(nodes) {
				// id addr flags master-id ...; a node's own flags
				// read "myself,slave".
				if f := strings.Fields(line); len(f) > 3 && strings.Contains(f[2], "slave") {
					following[f[3]]++
				}
			}
			for i, id := range ids {
				if following[id] != 1 {
					return fmt.Errorf("%d replicas of %s in CLUSTER NODES\n%s", following[id], c.nodes[i].Addr, nodes)
				}
			}
			return nil
		})
		_ = a.Close()
	}
	return c
}

// channelsOn returns a channel name starting with base for each of
// servers, whose key (under any prefix, the name being its hash tag)
// lives in a slot that server is master of.
func channelsOn(t testing.TB, c *cluster, base string, servers ...*server) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	a := c.nodes[0].client()
	defer a.Close()
	ranges, err := a.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	owner := func(slot int64) string {
		for _, r := range ranges {
			if int64(r.Start) <= slot && slot <= int64(r.End) {
				return r.Nodes[0].Addr
			}
		}
		return ""
	}
	names := make([]string, len(servers))
	for i, s := range servers {
		for n := 0; names[i] == ""; n++ {
			if n == 1000 {
				t.Fatalf("no channel %s* has its key on %s", base, s.Addr)
			}
			name := base + strconv.Itoa(n)
			slot, err := a.ClusterKeySlot(ctx, "{"+name+"}").Result()
			if err != nil {
				t.Fatal(err)
			}
			if owner(slot) == s.Addr {
				names[i] = name
			}
		}
	}
	return names
}

// promoted reports nil once replica says it is a master and every node of
// c but dead says the cluster is ok and names replica a master: a node
// says ok before it has even noticed the master died, so the state alone
// proves nothing.
func promoted(ctx context.Context, c *cluster, dead, replica *server, replicaID string) error {
	for _, s := range c.nodes {
		if s == dead {
			continue
		}
		a := s.client()
		info, err := a.ClusterInfo(ctx).Result()
		var nodes string
		if err == nil {
			nodes, err = a.ClusterNodes(ctx).Result()
		}
		_ = a.Close()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("CLUSTER INFO on %s says\n%s", s.Addr, info)
		}
		var line string
		for l := range strings.Lines(nodes) {
			if strings.HasPrefix(l, replicaID+" ") {
				line = l
			}
		}
		if flags := strings.Fields(line); len(flags) < 3 || !strings.Contains(flags[2], "master") {
			return fmt.Errorf("%s does not call %s a master yet: %q", s.Addr, replica.Addr, line)
		}
	}
	return nil
}

// dialProbesDone waits, for at most ten seconds, until no go-redis pool
// is probing a dead server. A pool that has failed to dial as many times
// as it holds connections probes its server every second until it dials
// or is closed, so the probe outlives the layer's Close by up to a
// second, longer than the package's leak check waits. It only waits: the
// leak check still fails on a probe that never ends.
func dialProbesDone() {
	buf := make([]byte, 8<<20)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n := runtime.Stack(buf, true)
		if !bytes.Contains(buf[:n], []byte("(*ConnPool).tryDial")) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClusterFailover kills a Cluster master outright, as a crash would,
// and its replica takes its slots over. Until then operations on those
// slots fail as unavailable; afterwards sends succeed again, a receiver
// left waiting across the failover gets the next message from the new
// master without help, and what the replica had received before the crash
// is there, in order.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	c := startReplicatedCluster(t)
	// Registered before the layer, so that it runs after the layer's
	// Close.
	t.Cleanup(dialProbesDone)
	l := newLayer(t, clusterConfig(c))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	// Every master serves the layer: the cluster client routes each key
	// to the master of its slot.
	everywhere := channelsOn(t, c, "m", c.nodes[:masters]...)
	for i, ch := range everywhere {
		must(t, l.Send(ctx, ch, layertest.Ping{N: i}))
	}
	for i, ch := range everywhere {
		expectPing(ctx, t, l, ch, i)
	}

	old, replica := c.nodes[1], c.nodes[1+masters]
	kept := channelsOn(t, c, "kept", old)[0]
	work := channelsOn(t, c, "work", old)[0]
	lost := channelsOn(t, c, "lost", old)[0]
	admin := replica.client()
	replicaID, err := admin.ClusterMyID(ctx).Result()
	_ = admin.Close()
	must(t, err)

	const keptN = 10
	for i := range keptN {
		must(t, l.Send(ctx, kept, layertest.Ping{N: i}))
	}
	must(t, l.Send(ctx, work, layertest.Ping{N: 0}))
	expectPing(ctx, t, l, work, 0)

	waiting := receiveLater(ctx, l, work)
	waitBlocked(t, old)
	// Replication is asynchronous, so only what the replica acknowledged
	// is sure to survive. WAIT waits for that on this connection's writes,
	// which must be in a slot of the old master's: a key with kept's hash
	// tag is. The replica applies writes in order, so acknowledging this
	// one covers the layer's sends before it.
	admin = old.client()
	defer admin.Close()
	must(t, admin.Set(ctx, "sbtest.replicated{"+kept+"}", "1", 0).Err())
	if n, err := admin.Wait(ctx, 1, 10*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1: %d, %v; want the replica to acknowledge", n, err)
	}

	old.stop()
	killed := time.Now()
	// The replica cannot be promoted before the other masters have gone a
	// node timeout without hearing from the old one, and the client still
	// routes the slot to the old master, so both fail as unavailable. A
	// machine stalled for longer than that may see the failover done;
	// then only success is allowed, and only once the replica is master.
	unavailable := func(what string, err error) {
		t.Helper()
		if err == nil {
			if perr := promoted(ctx, c, old, replica, replicaID); perr != nil {
				t.Fatalf("%s with the master down succeeded before the failover: %v", what, perr)
			}
			t.Logf("%s after the failover, %s after the kill: could not see the outage", what, time.Since(killed))
			return
		}
		if !errors.Is(err, redis.ErrUnavailable) {
			t.Fatalf("%s with the master down: %v, want ErrUnavailable", what, err)
		}
	}
	unavailable("Send", l.Send(ctx, lost, layertest.Ping{}))
	unavailable("Ping", l.Ping(ctx))

	waitFor(t, 20*time.Second, "replica "+replica.Addr+" promoted", func(ctx context.Context) error {
		return promoted(ctx, c, old, replica, replicaID)
	})
	t.Logf("replica promoted %s after the kill", time.Since(killed))

	promotedAt := time.Now()

	// The client finds the new master only as its connections fail and
	// it reloads the cluster's layout, so the first sends may still fail;
	// like any caller, the test retries. Not for long, though: messages
	// wait only Expiry (a minute by default) to be received, so an outage
	// that outlasts the failover by as much loses what the replica kept.
	// A send that failed may still have arrived, so the waiting receiver
	// may get an earlier attempt than the one that succeeded.
	const resume = 15 * time.Second
	first, n := 100, 100
	for {
		err := l.Send(ctx, work, layertest.Ping{N: n})
		if err == nil {
			break
		}
		if time.Since(promotedAt) > resume {
			t.Fatalf("Send still fails %s after the replica's promotion: %v", resume, err)
		}
		if !errors.Is(err, redis.ErrUnavailable) {
			t.Fatalf("Send after the failover: %v, want success or ErrUnavailable", err)
		}
		n++
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("sends succeed again %s after the kill, after %d failed", time.Since(killed), n-first)
	var got received
	select {
	case got = <-waiting:
	case <-time.After(resume):
		t.Fatalf("the receiver waiting across the failover got nothing %s after a send succeeded", resume)
	}
	t.Logf("the waiting receiver got a message %s after the kill", time.Since(killed))
	catchUp(ctx, t, l, work, got, first, n)
	for i := range keptN {
		expectPing(ctx, t, l, kept, i)
	}
	// Nothing else on work: the next message is one sent after it.
	must(t, l.Send(ctx, work, layertest.Ping{N: 1000}))
	expectPing(ctx, t, l, work, 1000)
	// The masters that stayed up serve as before, and Ping finds the new
	// master among them.
	for i, ch := range everywhere {
		must(t, l.Send(ctx, ch, layertest.Ping{N: i}))
		expectPing(ctx, t, l, ch, i)
	}
	must(t, l.Ping(ctx))
}
