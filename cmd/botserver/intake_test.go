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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/porttest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
)

// Three botservers with the durable intake on one Redis take Telegram's
// webhook requests from a round-robin proxy and Slack's envelopes over a
// Socket Mode connection each (the fake spreads envelopes over them in
// turn): 3,000 messages across 300 conversations. One is killed with
// SIGKILL mid-stream and started again. Every message is answered, each
// conversation's first answers come in order, duplicates stay within what
// was in flight at the kill, no two instances of a conversation ever
// handle at once (the check bot marks enter and leave in Redis), and the
// fakes refuse no call for a rate limit: the processes keep Telegram's
// 30/s per bot and 1/s per chat, and Slack's 1/s per channel, together.
func TestIntakeThreeProcessesWebhookSurvivesSIGKILL(t *testing.T) {
	url := redistest.URL(t)
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	intakeSurvivesSIGKILL(t, []string{opt.Addr}, fmt.Sprintf("{url: %q}", url), goredis.NewClient(opt))
}

// The same on a Redis Cluster of three masters.
func TestIntakeThreeProcessesOnRedisCluster(t *testing.T) {
	addrs := startRedisCluster(t)
	intakeSurvivesSIGKILL(t, addrs, fmt.Sprintf("{mode: cluster, cluster: {addrs: [%s]}}", strings.Join(addrs, ", ")),
		goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs}))
}

var (
	checkOnce sync.Once
	checkBin  string
	checkErr  error
)

// checkServer builds testdata/checkserver, a botserver whose "check" bot
// answers as the echo bot does and marks in Redis when a conversation's
// handler enters and leaves.
func checkServer(t *testing.T) string {
	t.Helper()
	checkOnce.Do(func() {
		checkBin = filepath.Join(filepath.Dir(binary), "checkserver")
		out, err := exec.Command("go", "build", "-o", checkBin, "./testdata/checkserver").CombinedOutput()
		if err != nil {
			checkErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if checkErr != nil {
		t.Fatalf("build checkserver: %v", checkErr)
	}
	return checkBin
}

// The run's size: conversations of each platform, and messages in each.
const (
	intakeTelegramChats = 100
	intakeSlackChannels = 200
	intakePerChat       = 10
	intakePartitions    = 16
)

// intakeSurvivesSIGKILL runs the test on the Redis that redisYAML (the
// layer's redis section) names, and addrs and rdb reach.
func intakeSurvivesSIGKILL(t *testing.T, addrs []string, redisYAML string, rdb goredis.UniversalClient) {
	bin := checkServer(t)
	tg := telegramtest.New(t, telegramtest.WithFloodControl(), telegramtest.WithWebhookRetry(50*time.Millisecond))
	sl := fakeslack.New(t, fakeslack.Options{Spread: true, PostLimit: &fakeslack.PostLimit{PerSecond: 1, Burst: 1}})
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "sbintake" + hex.EncodeToString(b)
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("no Redis: %v", err)
	}
	t.Cleanup(func() {
		// Delete the test's keys, wherever they live.
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
	check := func(key string) string { return prefix + ":check:{c}:" + key }

	listens := []string{porttest.Addr(t), porttest.Addr(t), porttest.Addr(t)}
	var next atomic.Int64
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		u, _ := url.Parse("http://" + listens[next.Add(1)%3])
		r.SetURL(u)
		r.Out.URL.Path = r.In.URL.Path
	}})
	t.Cleanup(proxy.Close)
	quoted := make([]string, len(addrs))
	for i, a := range addrs {
		quoted[i] = strconv.Quote(a)
	}
	config := func(listen string) string {
		return writeConfig(t, fmt.Sprintf(`
layer:
  backend: redis
  redis: %s
  intake: {enabled: true, partitions: %d, lease: 5s}
telegram:
  token: %q
  endpoint: %q
  limits: {global_per_second: 20}
  mode: webhook
  webhook: {url: "%s/telegram", listen: %q, secret_token: intake-secret, max_connections: 40}
slack:
  mode: socket
  bot_token: %q
  app_token: %q
  api_url: %q
  post_rate: 1
  post_burst: 1
  rate_limits: {chat.postMessage: 6000}
routes:
  telegram: {bot: check}
  slack: {bot: check}
bots:
  check: {addrs: [%s], prefix: %q}
`, strings.Replace(redisYAML, "{", "{prefix: "+prefix+", ", 1), intakePartitions, tg.Token(), tg.Endpoint(), proxy.URL, listen,
			fakeslack.BotToken, fakeslack.AppToken, sl.APIURL, strings.Join(quoted, ", "), prefix))
	}
	cfgs := []string{config(listens[0]), config(listens[1]), config(listens[2])}
	procs := []*proc{startProgram(t, bin, false, "-config", cfgs[0]),
		startProgram(t, bin, false, "-config", cfgs[1]), startProgram(t, bin, false, "-config", cfgs[2])}
	// Each process opens its Socket Mode connection: only then are
	// envelopes spread over three.
	awaitCond(t, "three Socket Mode connections", 30*time.Second, func() bool { n, _ := sl.Connects(); return n >= 3 })

	began := time.Now()
	const convs = intakeTelegramChats + intakeSlackChannels
	const total = convs * intakePerChat
	var envelopes []string
	envelopeOf := map[string]string{} // a Slack message's text -> its envelope
	taken := func() bool {            // every message pushed so far was acknowledged: appended
		for _, id := range envelopes {
			if !sl.Acked(id) {
				return false
			}
		}
		return tg.Pending() == 0
	}
	// The kill comes once a quarter of the messages were answered, the
	// restart once half were: between rounds, or while the test waits.
	var (
		killed, killedAt, tgInFlight, unacked, pending int
		restarted                                      bool
	)
	step := func() {
		n := len(intakeAnswers(tg, sl))
		switch {
		case killed == 0 && n >= total/4:
			// In flight at the kill: webhook updates and envelopes not
			// acknowledged yet, and the entries the killed process read
			// and did not acknowledge (which include every one it handled
			// without acknowledging).
			tgInFlight = tg.InFlight()
			for _, id := range envelopes {
				if !sl.Acked(id) {
					unacked++
				}
			}
			killed = procs[1].cmd.Process.Pid
			if err := procs[1].cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = procs[1].cmd.Wait()
			// The killed process's enter marks no longer count.
			if err := rdb.SAdd(ctx, check("dead"), strconv.Itoa(killed)).Err(); err != nil {
				t.Fatal(err)
			}
			procs[1].mu.Lock()
			node := nodeID.FindStringSubmatch(procs[1].logs.String())
			procs[1].mu.Unlock()
			if node == nil {
				t.Fatal("the killed process never logged its node id")
			}
			for p := range intakePartitions {
				if x, err := rdb.XPending(ctx, prefix+":intake:{"+strconv.Itoa(p)+"}", "owners").Result(); err == nil {
					pending += int(x.Consumers[node[1]])
				}
			}
			killedAt = n
			t.Logf("killed one of three after %d answers: %d webhook updates, %d envelopes and %d intake entries of its own in flight",
				killedAt, tgInFlight, unacked, pending)
		case killed != 0 && !restarted && n >= total/2:
			procs = append(procs, startProgram(t, bin, false, "-config", cfgs[1]))
			restarted = true
		}
	}
	// Messages come in rounds, one per conversation: a round once the
	// platforms' acknowledgements (appended) of the last one came, as a
	// user writes again once the last message was sent, and while at
	// most two rounds wait for answers, so that the backlog a platform's
	// rate limit makes stays within what a process giving a partition up
	// waits for (cluster.DrainWait).
	for i := range intakePerChat {
		awaitCond(t, fmt.Sprintf("round %d taken", i), 120*time.Second, func() bool {
			step()
			if !taken() {
				return false
			}
			tgs, sls := 0, 0
			for _, text := range intakeAnswers(tg, sl) {
				if text[0] == 't' {
					tgs++
				} else {
					sls++
				}
			}
			// Each platform's own: Slack's answers run ahead of
			// Telegram's, whose bot-wide limit is the slower.
			return tgs >= (i-2)*intakeTelegramChats && sls >= (i-2)*intakeSlackChannels
		})
		for c := range intakeTelegramChats {
			tg.Text(killChat(c), killChat(c), fmt.Sprintf("t%d-%d", c, i))
		}
		for c := range intakeSlackChannels {
			text := fmt.Sprintf("s%d-%d", c, i)
			id, _ := sl.PushEvent(sl.Message(fmt.Sprintf("C%04d", c), fmt.Sprintf("U%04d", c), text))
			envelopes = append(envelopes, id)
			envelopeOf[text] = id
		}
	}
	awaitCond(t, "the kill and the restart", 120*time.Second, func() bool { step(); return restarted })

	// Answers are made after the platform's acknowledgement (appended is
	// safe), so wait for them rather than for acknowledgements.
	awaitCond(t, "every message answered", 240*time.Second, func() bool {
		seen := map[string]bool{}
		for _, text := range intakeAnswers(tg, sl) {
			seen[text] = true
		}
		return len(seen) == total
	})
	took := time.Since(began)
	texts := intakeAnswers(tg, sl)
	seen := map[string]int{}
	last := map[string]int{}
	dups, redelivered := 0, 0
	for _, text := range texts {
		conv, idx, _ := strings.Cut(text, "-")
		if seen[text]++; seen[text] > 1 {
			if dups < 10 {
				t.Logf("duplicate %s", text)
			}
			dups++
			continue
		}
		if id, ok := envelopeOf[text]; ok && sl.Sends(id) > 1 {
			// Slack sent it again, after the connection it first went
			// on ended: it comes in when Slack sends it, after what the
			// other connections carried meanwhile.
			redelivered++
			continue
		}
		if l, ok := last[conv]; ok && atoi(idx) <= l {
			t.Errorf("conversation %s: first answer to %s after the answer to %d: order broken", conv, idx, l)
		}
		last[conv] = atoi(idx)
	}
	overlaps, _ := rdb.Get(ctx, check("overlaps")).Int()
	handled, _ := rdb.Get(ctx, check("handled")).Int()
	floods, limited := tg.Floods(), sl.RateLimited()
	t.Logf("%d messages over %d conversations (%d Telegram chats, %d Slack channels), 3 processes, one killed and restarted, in %v: "+
		"%d answers, %d duplicates (intake entries in flight in the killed process: %d), %d Slack messages sent again (out of the order check), "+
		"%d handled, %d overlaps, %d Telegram floods refused, %d Slack posts rate-limited",
		total, intakeTelegramChats+intakeSlackChannels, intakeTelegramChats, intakeSlackChannels, took.Round(time.Millisecond),
		len(texts), dups, pending, redelivered, handled, overlaps, floods, limited)
	if dups > pending {
		t.Errorf("%d duplicates, more than the %d entries in flight in the killed process", dups, pending)
	}
	if handled < total {
		t.Errorf("the check bot handled %d messages, fewer than %d: its marks did not run", handled, total)
	}
	if overlaps != 0 {
		log, _ := rdb.LRange(ctx, check("overlap-log"), 0, 9).Result()
		t.Errorf("%d times two instances of one conversation handled at once: %q", overlaps, log)
	}
	// The limits were kept in Redis: no process fell back to its own.
	for _, p := range procs {
		p.mu.Lock()
		logs := p.logs.String()
		p.mu.Unlock()
		if strings.Contains(logs, "shared rate limits unreachable") {
			t.Errorf("a process could not keep the shared rate limits:\n%s", logs)
		}
	}
	if floods != 0 || limited != 0 {
		floodCauses(t, tg, sl)
		t.Errorf("rate limits broken: Telegram refused %d messages, Slack %d posts", floods, limited)
	}
}

// nodeID finds a process's node id in its log.
var nodeID = regexp.MustCompile(`node=(\w+)`)

// intakeAnswers returns the texts the check bot answered ("t3-7",
// "s12-4"), on Telegram then on Slack, each in the order the fake took
// them.
func intakeAnswers(tg *telegramtest.Server, sl *fakeslack.Server) []string {
	out := answered(tg)
	for _, c := range sl.Calls("chat.postMessage") {
		if c.Err == "" {
			if text, ok := strings.CutPrefix(c.Text(), "You said: "); ok {
				out = append(out, text)
			}
		}
	}
	return out
}

// awaitCond waits until cond holds, failing t after timeout. The
// condition is the fakes' record of what other processes did, which
// nothing signals to the test.
func awaitCond(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answered returns the texts the bot answered on Telegram ("t3-7"), in
// order.
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
		addr, bus := porttest.Addr(t), porttest.Addr(t)
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

// floodCauses logs, for the calls the fakes refused, which limit was over
// by the fakes' own record: the bot's, or the chat's or channel's, and
// how long after the chat's last call.
func floodCauses(t *testing.T, tg *telegramtest.Server, sl *fakeslack.Server) {
	calls := tg.Calls("sendMessage")
	chat, global := 0, 0
	var gaps []time.Duration
	for i, c := range calls {
		if c.Status != 429 {
			continue
		}
		n := 0
		var lastChat time.Time
		for _, p := range calls[:i] {
			if p.Status == 200 && c.Time.Sub(p.Time) < 900*time.Millisecond {
				n++
			}
			if p.Status == 200 && p.ChatID() == c.ChatID() {
				lastChat = p.Time
			}
		}
		if n >= 30 {
			global++
		}
		if !lastChat.IsZero() && c.Time.Sub(lastChat) < 900*time.Millisecond {
			chat++
			gaps = append(gaps, c.Time.Sub(lastChat))
		}
	}
	for i, c := range calls {
		if c.Status == 429 && i > 0 {
			t.Logf("telegram refused %s chat %d at %v", c.Params.Get("text"), c.ChatID(), c.Time.Format("15:04:05.000"))
		}
	}
	t.Logf("telegram refusals: %d over the bot's limit, %d over a chat's; gaps %v", global, chat, gaps[:min(len(gaps), 20)])
	posts := sl.Calls("chat.postMessage")
	var sgaps []time.Duration
	for i, c := range posts {
		if c.Err == "" {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			if posts[j].Err == "" && posts[j].Channel() == c.Channel() {
				sgaps = append(sgaps, posts[i].Time.Sub(posts[j].Time))
				t.Logf("slack refused %q at %v, %v after %q (%d calls between)", c.Text(), c.Time.Format("15:04:05.000"), posts[i].Time.Sub(posts[j].Time), posts[j].Text(), i-j)
				break
			}
		}
	}
	t.Logf("slack refusals: gaps to the channel's last post %v", sgaps[:min(len(sgaps), 30)])
}
