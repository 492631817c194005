package redis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// The tests of this file run beside each other: most of their time goes
// to waiting for Redis' own timers (a cluster node accepts writes two
// seconds after it starts, a sentinel calls a master down after a second
// of silence), not to using the processor.

func clusterConfig(c *cluster) redis.Config {
	return redis.Config{Mode: redis.ModeCluster, Cluster: redis.ClusterConfig{Addrs: c.Addrs}}
}

func sentinelConfig(st *sentinels) redis.Config {
	return redis.Config{Mode: redis.ModeSentinel, Sentinel: redis.SentinelConfig{MasterName: st.Name, Addrs: st.Addrs}}
}

// TestCluster runs the suite on a Redis Cluster of three masters, its
// Restart case killing and restarting every node, then the cases
// particular to Cluster, all on one cluster, since one takes seconds to
// form.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	t.Run("Conformance", func(t *testing.T) {
		f := features
		f.Restart = func(t *testing.T) { c.restart(t) }
		layertest.Run(t, factory(clusterConfig(c)), f)
	})
	t.Run("GroupSend", func(t *testing.T) { testClusterGroupSend(t, c) })
	t.Run("SendOnce", func(t *testing.T) { testClusterSendOnce(t, c) })
	t.Run("Lease", func(t *testing.T) { testClusterLease(t, c) })
	// Last, since it takes a node down.
	t.Run("Ping", func(t *testing.T) { testClusterPing(t, c) })
}

// A lease works on Cluster, where its scripts run in the slot of its key.
func testClusterLease(t *testing.T, c *cluster) {
	cfg := clusterConfig(c)
	cfg.Prefix = "lease"
	lease := newLayer(t, cfg).Lease()
	ctx := t.Context()
	held := checker(t)
	if !held(lease.Acquire(ctx, "bot", "a", 10*time.Second)) {
		t.Fatal("a cannot take a free lease")
	}
	if held(lease.Acquire(ctx, "bot", "b", 10*time.Second)) {
		t.Fatal("b took a lease a holds")
	}
	if !held(lease.Renew(ctx, "bot", "a", time.Minute)) {
		t.Fatal("a cannot renew its lease")
	}
	must(t, lease.Release(ctx, "bot", "a"))
	if !held(lease.Acquire(ctx, "bot", "b", time.Second)) {
		t.Fatal("b cannot take the lease a released")
	}
}

// Ping asks every master: with one down it fails, naming that one.
func testClusterPing(t *testing.T, c *cluster) {
	l := newLayer(t, clusterConfig(c))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	must(t, l.Ping(ctx))
	down := c.nodes[1]
	down.stop()
	err := l.Ping(ctx)
	if !errors.Is(err, redis.ErrUnavailable) || !strings.Contains(err.Error(), down.Addr) {
		t.Fatalf("Ping with %s down: %v; want ErrUnavailable naming it", down.Addr, err)
	}
	for _, up := range []*server{c.nodes[0], c.nodes[2]} {
		if strings.Contains(err.Error(), up.Addr) {
			t.Fatalf("Ping with %s down: %v; it names %s, which is up", down.Addr, err, up.Addr)
		}
	}
}

// TestConformanceSentinel runs the suite on a master found through
// Sentinel, whose Restart case is a switchover: the sentinel makes the
// replica master while the old master still runs, and demotes that.
func TestConformanceSentinel(t *testing.T) {
	t.Parallel()
	st := startSentinels(t)
	f := features
	f.Restart = func(t *testing.T) { st.switchover(t) }
	layertest.Run(t, factory(sentinelConfig(st)), f)
}

// expectPing receives from channel through l and fails unless it is
// Ping{N: n}.
func expectPing(ctx context.Context, t testing.TB, l *redis.Layer, channel string, n int) {
	t.Helper()
	if err := receivePing(ctx, l, channel, n); err != nil {
		t.Fatal(err)
	}
}

// received is the outcome of a Receive.
type received struct {
	ev  event.Event
	err error
}

// receiveLater starts a Receive from channel, to be left waiting across
// an outage, and returns where its outcome arrives.
func receiveLater(ctx context.Context, l *redis.Layer, channel string) <-chan received {
	out := make(chan received, 1)
	go func() {
		ev, err := l.Receive(ctx, channel)
		out <- received{ev, err}
	}()
	return out
}

// catchUp checks what a receiver left waiting across an outage got: one
// of the attempts first to last at sending to channel, of which any may
// have arrived though its send failed. Then it receives the rest, up to
// the last, which succeeded.
func catchUp(ctx context.Context, t testing.TB, l *redis.Layer, channel string, got received, first, last int) {
	t.Helper()
	must(t, got.err)
	p, err := event.Decode[layertest.Ping](got.ev)
	if err != nil || p.N < first || p.N > last {
		t.Fatalf("receiver waiting across the outage got %v, %v; want a message sent after it", got.ev, err)
	}
	for p.N != last {
		ev, err := l.Receive(ctx, channel)
		must(t, err)
		p, _ = event.Decode[layertest.Ping](ev)
	}
}

func receivePing(ctx context.Context, l *redis.Layer, channel string, n int) error {
	ev, err := l.Receive(ctx, channel)
	if err != nil {
		return fmt.Errorf("Receive(%q): %w; want message %d", channel, err, n)
	}
	if p, err := event.Decode[layertest.Ping](ev); err != nil || p.N != n {
		return fmt.Errorf("Receive(%q) got %v, %v; want message %d", channel, ev, err, n)
	}
	return nil
}

// A group whose members' keys lie in slots all over the cluster gets one
// copy of a group send in each member, process-local members of two
// layers included, and nothing more; also when only some nodes have the
// script loaded, so that the send runs it in full on the others, and a
// receiver pops its copy as soon as it lands.
func testClusterGroupSend(t *testing.T, c *cluster) {
	cfg := clusterConfig(c)
	cfg.Prefix = "gs"
	a, b := newLayer(t, cfg), newLayer(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	type member struct {
		l       *redis.Layer
		channel string
	}
	var members []member
	for i := range 60 {
		members = append(members, member{a, fmt.Sprintf("room.member%d", i)})
	}
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		ch, err := l.NewChannel(ctx, "specific.")
		must(t, err)
		members = append(members, member{l, ch})
	}
	for _, m := range members {
		must(t, a.GroupAdd(ctx, "room", m.channel))
	}
	// One send loads the delivery script on one node only.
	c.flushScripts(t)
	first := members[0].channel
	must(t, a.Send(ctx, first, layertest.Ping{N: -1}))
	expectPing(ctx, t, a, first, -1)
	popped := make(chan error, 1)
	go func() { popped <- receivePing(ctx, a, first, 1) }()
	waitBlocked(t, c.nodes...)
	must(t, b.GroupSend(ctx, "room", layertest.Ping{N: 1}))
	must(t, <-popped)

	for i, n := range c.keysOn(t, cfg.Prefix+"{") {
		if n == 0 {
			t.Fatalf("node %s holds no member's key; want members on every node", c.Addrs[i])
		}
	}
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Go(func() {
			var err error
			if m.channel != first {
				err = receivePing(ctx, m.l, m.channel, 1)
			}
			// Exactly one copy: the next message is one sent after it.
			if err == nil {
				err = a.Send(ctx, m.channel, layertest.Ping{N: 2})
			}
			if err == nil {
				err = receivePing(ctx, m.l, m.channel, 2)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// waitBlocked waits until a client is blocked in BZPOPMIN on one of
// servers: a receive loop waiting in Redis.
func waitBlocked(t testing.TB, servers ...*server) {
	t.Helper()
	waitFor(t, 10*time.Second, "a receive loop blocked in Redis", func(ctx context.Context) error {
		var errs []error
		for _, s := range servers {
			err := blockedIn(ctx, s, "bzpopmin")
			if err == nil {
				return nil
			}
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// lostReply makes the first delivery a node client sends after armed is
// set (a script call, or a ZADD alone or in a pipeline) fail as if the
// connection broke after the node ran it, before the reply came.
type lostReply struct{ armed *atomic.Bool }

func (lostReply) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func isDelivery(cmd goredis.Cmder) bool {
	return cmd.Name() == "evalsha" || cmd.Name() == "zadd"
}

func (h lostReply) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if !isDelivery(cmd) || !h.armed.CompareAndSwap(true, false) {
			return next(ctx, cmd)
		}
		if err := next(ctx, cmd); err != nil {
			return err
		}
		cmd.SetErr(io.EOF)
		return io.EOF
	}
}

func (h lostReply) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if !slices.ContainsFunc(cmds, isDelivery) || !h.armed.CompareAndSwap(true, false) {
			return next(ctx, cmds)
		}
		if err := next(ctx, cmds); err != nil {
			return err
		}
		for _, cmd := range cmds {
			cmd.SetErr(io.EOF)
		}
		return io.EOF
	}
}

// A send whose reply is lost fails, and is not sent again: the node ran
// it, and a receiver took the message at once, so a second run would
// deliver it twice. Cluster clients resend such commands unless told
// not to.
func testClusterSendOnce(t *testing.T, c *cluster) {
	var armed atomic.Bool
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs})
	defer cc.Close()
	cc.OnNewNode(func(n *goredis.Client) { n.AddHook(lostReply{&armed}) })
	cfg := clusterConfig(c)
	cfg.Prefix = "once"
	l := newLayer(t, cfg, redis.WithClient(cc))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	must(t, l.Send(ctx, "work", layertest.Ping{N: 0}))
	expectPing(ctx, t, l, "work", 0)
	popped := make(chan error, 1)
	go func() { popped <- receivePing(ctx, l, "work", 1) }()
	waitBlocked(t, c.nodes...)
	armed.Store(true)
	if err := l.Send(ctx, "work", layertest.Ping{N: 1}); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Send whose reply was lost: %v, want ErrUnavailable", err)
	}
	must(t, <-popped)
	must(t, l.Send(ctx, "work", layertest.Ping{N: 2}))
	expectPing(ctx, t, l, "work", 2)
}

// TestSentinelFailover kills the master, as a crash would. Until the
// sentinel has promoted the replica, operations fail as unavailable; then
// a receiver left waiting across the failover gets the next message from
// the new master without help, sends succeed again, and what the replica
// had received before the crash is there.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	st := startSentinels(t)
	l := newLayer(t, sentinelConfig(st))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	const kept = 10
	for i := range kept {
		must(t, l.Send(ctx, "kept", layertest.Ping{N: i}))
	}
	must(t, l.GroupAdd(ctx, "room", "work"))
	must(t, l.Send(ctx, "work", layertest.Ping{N: 0}))
	expectPing(ctx, t, l, "work", 0)

	old := st.master(t)
	admin := old.client()
	defer admin.Close()
	waiting := receiveLater(ctx, l, "work")
	waitBlocked(t, old)
	// Replication is asynchronous: the master acknowledges a write before
	// its replica has it, and a failover loses what the replica had not
	// got, so only what a replica acknowledged is sure to survive. WAIT
	// waits for that on this connection's writes; the replica applies the
	// master's writes in order, so its acknowledging this one covers the
	// layer's writes before it.
	must(t, admin.Set(ctx, "sbtest.replicated", "1", 0).Err())
	if n, err := admin.Wait(ctx, 1, 10*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1: %d, %v; want the replica to acknowledge", n, err)
	}

	old.stop()
	if err := l.Send(ctx, "lost", layertest.Ping{}); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Send with the master down: %v, want ErrUnavailable", err)
	}
	if err := l.Ping(ctx); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Ping with the master down: %v, want ErrUnavailable", err)
	}
	st.failedOver(t, old.Addr)

	// The layer finds the new master as its connections fail and are
	// dialled again, so the first sends may still fail; like any caller,
	// the test retries. A send that failed may still have arrived, so the
	// waiting receiver may get an earlier attempt than the one that
	// succeeded.
	first, n := 100, 100
	for {
		err := l.Send(ctx, "work", layertest.Ping{N: n})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Send after the failover never succeeded: %v", err)
		}
		n++
		time.Sleep(50 * time.Millisecond)
	}
	catchUp(ctx, t, l, "work", <-waiting, first, n)
	must(t, l.Ping(ctx))
	for i := range kept {
		expectPing(ctx, t, l, "kept", i)
	}
	must(t, l.GroupSend(ctx, "room", layertest.Ping{N: 1000}))
	expectPing(ctx, t, l, "work", 1000)
	// Nothing else on "work": the next message is one sent after it.
	must(t, l.Send(ctx, "work", layertest.Ping{N: 1001}))
	expectPing(ctx, t, l, "work", 1001)
}
