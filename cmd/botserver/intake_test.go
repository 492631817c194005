package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// Three botservers with the durable intake on one Redis take Telegram's
// webhook requests from a round-robin proxy; one is killed with SIGKILL
// mid-stream and started again. Every message is answered, each chat's
// first answers come in order, and duplicates stay within what was in
// flight.
func TestIntakeThreeProcessesWebhookSurvivesSIGKILL(t *testing.T) {
	intakeSurvivesSIGKILL(t, "{url: \"redis://127.0.0.1:6379/0\"}", goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"}))
}

// The same on a Redis Cluster of three masters.
func TestIntakeThreeProcessesOnRedisCluster(t *testing.T) {
	addrs := startRedisCluster(t)
	intakeSurvivesSIGKILL(t, fmt.Sprintf("{mode: cluster, cluster: {addrs: [%s]}}", strings.Join(addrs, ", ")),
		goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs}))
}

// intakeSurvivesSIGKILL runs the test on the Redis that redisYAML (the
// layer's redis section) names and rdb reaches.
func intakeSurvivesSIGKILL(t *testing.T, redisYAML string, rdb goredis.UniversalClient) {
	const chats, perChat = 60, 10
	tg := telegramtest.New(t, telegramtest.WithFloodControl(), telegramtest.WithWebhookRetry(50*time.Millisecond))
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "sbintake" + hex.EncodeToString(b)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("no Redis: %v", err)
	}
	t.Cleanup(func() {
		// Delete the test's keys, wherever they live.
		ctx := context.Background()
		del := func(ctx context.Context, c *goredis.Client) error {
			for it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator(); it.Next(ctx); {
				c.Del(ctx, it.Val())
			}
			return nil
		}
		if cc, ok := rdb.(*goredis.ClusterClient); ok {
			_ = cc.ForEachMaster(ctx, del)
		} else {
			_ = del(ctx, rdb.(*goredis.Client))
		}
		_ = rdb.Close()
	})

	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	var next atomic.Int64
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		u, _ := url.Parse("http://" + addrs[next.Add(1)%3])
		r.SetURL(u)
		r.Out.URL.Path = r.In.URL.Path
	}})
	t.Cleanup(proxy.Close)
	config := func(listen string) string {
		return writeConfig(t, fmt.Sprintf(`
layer:
  backend: redis
  redis: %s
  intake: {enabled: true, partitions: 16, lease: 1s}
telegram:
  token: %q
  endpoint: %q
  mode: webhook
  webhook: {url: "%s/telegram", listen: %q, secret_token: intake-secret, max_connections: 40}
routes:
  telegram: {bot: echo}
`, strings.Replace(redisYAML, "{", "{prefix: "+prefix+", ", 1), tg.Token(), tg.Endpoint(), proxy.URL, listen))
	}
	cfgs := []string{config(addrs[0]), config(addrs[1]), config(addrs[2])}
	procs := []*proc{startBotserver(t, false, "-config", cfgs[0]),
		startBotserver(t, false, "-config", cfgs[1]), startBotserver(t, false, "-config", cfgs[2])}

	began := time.Now()
	for i := range perChat {
		for c := range chats {
			tg.Text(killChat(c), killChat(c), fmt.Sprintf("c%d-%d", c, i))
		}
	}
	const total = chats * perChat
	if err := tg.AwaitSent(total/4, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	inFlight := tg.InFlight()
	if err := procs[1].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = procs[1].cmd.Wait()
	killedAt := len(answered(tg))
	t.Logf("killed one of three after %d answers, %d webhook updates in flight", killedAt, inFlight)
	if err := tg.AwaitSent(total/2, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	startBotserver(t, false, "-config", cfgs[1])

	// Answers are made after the webhook's 200 (appended is safe), so wait
	// for them rather than for confirmations.
	deadline := time.Now().Add(120 * time.Second)
	for {
		seen := map[string]bool{}
		for _, text := range answered(tg) {
			seen[text] = true
		}
		if len(seen) == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages answered", len(seen), total)
		}
		time.Sleep(100 * time.Millisecond) // the answers come from other processes
	}
	texts := answered(tg)
	seen := map[string]int{}
	last := map[string]int{}
	dups := 0
	for _, text := range texts {
		chat, idx, _ := strings.Cut(text, "-")
		if seen[text]++; seen[text] > 1 {
			if dups < 10 {
				t.Logf("duplicate %s at %d of %d", text, len(seen), len(texts))
			}
			dups++
			continue
		}
		if l, ok := last[chat]; ok && atoi(idx) <= l {
			t.Errorf("chat %s: first answer to %s after the answer to %d: order broken", chat, idx, l)
		}
		last[chat] = atoi(idx)
	}
	t.Logf("%d messages over %d chats, 3 processes, one killed and restarted: %d answers, %d duplicates, %d floods refused, %v",
		total, chats, len(texts), dups, tg.Floods(), time.Since(began).Round(time.Millisecond))
	// What the killed process handled but had not acknowledged yet (its
	// acknowledgements go out every few milliseconds, per partition) is
	// handled again by the next owner: a few per partition it owned, which
	// four per partition bounds loosely.
	if dups > 16*4 {
		t.Errorf("%d duplicates", dups)
	}
}

// answered returns the texts the echo bot answered ("c3-7"), in order.
func answered(tg *telegramtest.Server) []string {
	var out []string
	for _, c := range tg.Calls("sendMessage") {
		if c.Status == http.StatusOK {
			if text, ok := strings.CutPrefix(c.Params.Get("text"), "You said: "); ok {
				out = append(out, text)
			}
		}
	}
	return out
}

// startRedisCluster starts a Redis Cluster of three masters without
// replicas, each a redis-server of the test's own holding a third of the
// slots, and returns their addresses.
func startRedisCluster(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skipf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	ctx := context.Background()
	var addrs, buses []string
	for range 3 {
		addr, bus := freeAddr(t), freeAddr(t)
		_, port, _ := net.SplitHostPort(addr)
		_, busPort, _ := net.SplitHostPort(bus)
		cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(),
			"--save", "", "--appendonly", "no", "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-port", busPort)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs, buses = append(addrs, addr), append(buses, busPort)
	}
	const slots = 16384
	for i, addr := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		err := c.Ping(ctx).Err()
		for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); err = c.Ping(ctx).Err() {
			time.Sleep(10 * time.Millisecond) // a server that is starting
		}
		if err == nil {
			err = c.Do(ctx, "cluster", "set-config-epoch", i+1).Err()
		}
		if err == nil {
			err = c.ClusterAddSlotsRange(ctx, i*slots/3, (i+1)*slots/3-1).Err()
		}
		if err == nil && i > 0 {
			host, port, _ := net.SplitHostPort(addrs[0])
			err = c.Do(ctx, "cluster", "meet", host, port, buses[0]).Err()
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
				t.Fatalf("cluster not ok on %s: %v", addr, err)
			}
			time.Sleep(20 * time.Millisecond) // the nodes gossip on their own time
		}
		_ = c.Close()
	}
	return addrs
}
