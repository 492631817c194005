package main_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/internal/porttest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
)

const (
	// churnConns connections are opened and closed, churnParallel at a
	// time: half to the room bot, half to wschat.
	churnConns    = 60_000
	churnParallel = 64
	// churnWarm connections run first, so that what grows once (pools,
	// buffers, the runtime's own tables) has grown before the baseline.
	churnWarm = 3_000
	// churnRooms spreads the room bot's members over a few rooms, so that
	// each message is relayed to the few others in its room.
	churnRooms = 16
	// heapSlack is how far the live heap after the churn may be from the
	// baseline: memory kept per ended connection, at even 40 bytes each,
	// would exceed it.
	heapSlack = 2 << 20
	// churnExpiry is the layer's message expiry. A room message that
	// reaches a member whose connection has just closed is kept, as the
	// layer's contract says, until it expires; so the heap is measured
	// once the expiry has passed, kept short to keep the test short.
	churnExpiry = 3 * time.Second
)

// Connections that have ended leave nothing behind: after 60,000 clients
// of the room bot and wschat on the Redis layer connected, spoke once and
// left, the process's live heap, goroutines and Redis keys are back where
// they were.
func TestChurnLeavesNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("60,000 connections: not with -short")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "sbchurn" + hex.EncodeToString(b)
	url := redistest.URL(t)
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	t.Cleanup(func() {
		deleteKeys(t, rdb, prefix+"*")
		_ = rdb.Close()
	})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis on %s: %v", url, err)
	}
	opsAddr := porttest.Addr(t)
	cfg := writeConfig(t, fmt.Sprintf(`
log: {level: warn}
layer: {backend: redis, expiry: %s, redis: {url: %q, prefix: %s}}
websocket: {addr: "127.0.0.1:0"}
ops: {addr: %q, pprof: true}
routes:
  websocket:
    paths:
      - {path: "/room/{room}/", bot: room}
      - {path: /chat/, bot: wschat}
`, churnExpiry, url, prefix, opsAddr))
	p := startBotserver(t, true, "-config", cfg)
	ops := "http://" + opsAddr

	churn(t, p.addr, 0, churnWarm)
	awaitNoScopes(t, ops)
	time.Sleep(churnExpiry + time.Second) // the expiry must pass: nothing to await
	before := liveHeap(t, ops)
	keysBefore := len(churnKeys(t, rdb, prefix))
	goBefore := metric(t, ops, "go_goroutines")

	start := time.Now()
	churn(t, p.addr, churnWarm, churnConns)
	took := time.Since(start)
	awaitNoScopes(t, ops)
	time.Sleep(churnExpiry + time.Second) // the expiry must pass: nothing to await
	after := liveHeap(t, ops)
	keysAfter := churnKeys(t, rdb, prefix)
	goAfter := metric(t, ops, "go_goroutines")

	t.Logf("%d connections in %v (%.0f/s); live heap %d B / %d objects before, %d B / %d objects after (%+d B, %+.1f B per connection); goroutines %v -> %v; Redis keys %d -> %d",
		churnConns, took.Round(time.Millisecond), churnConns/took.Seconds(),
		before.alloc, before.objects, after.alloc, after.objects,
		after.alloc-before.alloc, float64(after.alloc-before.alloc)/churnConns,
		goBefore, goAfter, keysBefore, len(keysAfter))
	if d := after.alloc - before.alloc; d > heapSlack {
		t.Errorf("the live heap grew by %d bytes over %d ended connections", d, churnConns)
	}
	if goAfter > goBefore+10 {
		t.Errorf("goroutines %v before, %v after", goBefore, goAfter)
	}
	if len(keysAfter) > keysBefore {
		t.Errorf("Redis keys %d before, %d after: %s", keysBefore, len(keysAfter), describeKeys(t, rdb, keysAfter))
	}
}

// churn opens connections from..to-1, churnParallel at a time, each of
// which reads its welcome, says one line and leaves: the even ones to a
// room, with a close handshake, the odd ones to wschat, whose answer they
// read before dropping the TCP connection.
func churn(t *testing.T, addr string, from, to int) {
	t.Helper()
	dialer := gorilla.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 512, WriteBufferSize: 512}
	var (
		next     atomic.Int64
		failures atomic.Int64
		first    sync.Once
		wg       sync.WaitGroup
	)
	next.Store(int64(from))
	for range churnParallel {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < to && failures.Load() == 0; i = int(next.Add(1)) - 1 {
				if err := oneConnection(&dialer, addr, i); err != nil {
					failures.Add(1)
					first.Do(func() { t.Errorf("connection %d: %v", i, err) })
				}
			}
		})
	}
	wg.Wait()
	if failures.Load() > 0 {
		t.FailNow()
	}
}

func oneConnection(d *gorilla.Dialer, addr string, i int) error {
	room := i%2 == 0
	path := "/chat/"
	if room {
		path = fmt.Sprintf("/room/r%d/", i%churnRooms)
	}
	c, _, err := d.Dial("ws://"+addr+path, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "Welcome") {
		return fmt.Errorf("welcome %q: %v", msg, err)
	}
	line := "hello " + strconv.Itoa(i)
	if err := c.WriteMessage(gorilla.TextMessage, []byte(line)); err != nil {
		return err
	}
	if room {
		// What others said may still arrive; the close handshake ends it.
		return c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
	}
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "Anonymous: "+line {
		return fmt.Errorf("echo %q: %v", msg, err)
	}
	return nil
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

// metric returns the value of the first sample of name (with its labels,
// if any) on /metrics.
func metric(t *testing.T, ops, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(httpGet(t, ops+"/metrics")))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// awaitNoScopes waits until every scope of the churn has ended: a closed
// connection ends its scope a moment after the client has gone.
func awaitNoScopes(t *testing.T, ops string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for metric(t, ops, `switchboard_scopes_live{protocol="websocket"}`) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("scopes still live 30s after their connections closed")
		}
		time.Sleep(50 * time.Millisecond) // polling a condition of another process
	}
}

type heap struct{ alloc, objects int64 }

var memStat = regexp.MustCompile(`(?m)^# (HeapAlloc|HeapObjects) = (\d+)$`)

// liveHeap returns the process's live heap: the heap profile's memory
// statistics, read right after the collection it asks for with gc=1. Of a
// few readings it keeps the least, as the one with the least garbage made
// since its collection (by the profile's own writing, or a goroutine
// that had not yet finished).
func liveHeap(t *testing.T, ops string) heap {
	t.Helper()
	best := heap{alloc: -1}
	for range 3 {
		var h heap
		for _, m := range memStat.FindAllStringSubmatch(httpGet(t, ops+"/debug/pprof/heap?gc=1&debug=1"), -1) {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			if m[1] == "HeapAlloc" {
				h.alloc = n
			} else {
				h.objects = n
			}
		}
		if h.alloc == 0 {
			t.Fatal("the heap profile has no HeapAlloc")
		}
		if best.alloc < 0 || h.alloc < best.alloc {
			best = h
		}
	}
	return best
}

// churnKeys returns the process's keys under prefix but the readiness
// probe's channel: the status page samples readiness every second, and
// the layer's check sends a message to that channel and takes it back, so
// the key is there for the moment in between, whatever the churn left.
func churnKeys(t *testing.T, rdb *goredis.Client, prefix string) []string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(keys, func(k string) bool { return strings.HasPrefix(k, prefix+"readyz.") })
}

// describeKeys says what keys are: each one's type, time to live and
// first members, so that a key left behind can be told for a channel's,
// a group's or another's.
func describeKeys(t *testing.T, rdb *goredis.Client, keys []string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, key := range keys {
		typ, _ := rdb.Type(ctx, key).Result()
		ttl, _ := rdb.PTTL(ctx, key).Result()
		fmt.Fprintf(&b, "\n\t%s (%s, time to live %v)", key, typ, ttl)
		if typ == "zset" {
			members, _ := rdb.ZRangeWithScores(ctx, key, 0, 2).Result()
			n, _ := rdb.ZCard(ctx, key).Result()
			fmt.Fprintf(&b, ": %d members, the first %v", n, members)
		}
	}
	return b.String()
}

func deleteKeys(t *testing.T, rdb *goredis.Client, pattern string) {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, pattern).Result()
	if err == nil && len(keys) > 0 {
		err = rdb.Del(ctx, keys...).Err()
	}
	if err != nil {
		t.Errorf("clean Redis keys %s: %v", pattern, err)
	}
}
