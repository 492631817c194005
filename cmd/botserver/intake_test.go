package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
	const chats, perChat = 60, 10
	tg := telegramtest.New(t, telegramtest.WithFloodControl(), telegramtest.WithWebhookRetry(50*time.Millisecond))
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "sbintake" + hex.EncodeToString(b)
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("no Redis at 127.0.0.1:6379: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
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
  redis: {prefix: %s}
  intake: {enabled: true, partitions: 16, lease: 1s}
telegram:
  token: %q
  endpoint: %q
  mode: webhook
  webhook: {url: "%s/telegram", listen: %q, secret_token: intake-secret, max_connections: 40}
routes:
  telegram: {bot: echo}
`, prefix, tg.Token(), tg.Endpoint(), proxy.URL, listen))
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
