package main_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/internal/redistest"
)

// A Telegram member of a room outlives its process: it joins by speaking,
// its botserver is killed with SIGKILL and started again, and what web
// members say then reaches the Telegram chat without the member speaking
// again. Its conversation channel is named from the conversation, and its
// membership and facts were kept in Redis: the restarted process receives
// the channel and starts the conversation's scope from the facts.
func TestRoomMemberOnTelegramOutlivesItsProcess(t *testing.T) {
	tg := telegramtest.New(t)
	url := redistest.URL(t)
	cfg := writeConfig(t, fmt.Sprintf(`
layer: {backend: redis, redis: {url: %q, prefix: %q}}
websocket: {addr: "127.0.0.1:0"}
telegram:
  token: %q
  endpoint: %q
  polling: {timeout: 1s, lease_ttl: 1s}
routes:
  websocket: {bot: room}
  telegram: {bot: room}
`, url, redistest.Prefix(t, url), tg.Token(), tg.Endpoint()))
	const chat, user = int64(6160), int64(61)

	p := startBotserver(t, true, "-config", cfg)
	web := wsDial(t, p.addr, "/room/")
	if got := wsRead(t, web); !strings.HasPrefix(got, "Welcome to room lobby") {
		t.Fatalf("welcome %q", got)
	}
	id := tg.Text(chat, user, "hello from telegram")
	expectRelayed(t, web, "[telegram]", "hello from telegram")
	// Confirmed, so that the restarted process is not handed the update
	// again: the member must not speak after the kill.
	if err := tg.AwaitConfirmed(id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	p2 := startBotserver(t, true, "-config", cfg)
	// The member spoke once, before the kill: had the restarted process
	// been handed its update again, the room would have relayed it to
	// the web member.
	webReachesSilentMember(t, p2.addr, tg, chat)
}

// webReachesSilentMember has a web member of the room, on the botserver at
// addr, say two lines; the Telegram member in chat, which does not speak,
// must get each once, and the web member nothing back.
func webReachesSilentMember(t *testing.T, addr string, tg *telegramtest.Server, chat int64) {
	t.Helper()
	web := wsDial(t, addr, "/room/")
	wsRead(t, web) // the welcome
	say(t, web, "/name Ada")
	if got := wsRead(t, web); got != "You are now Ada." {
		t.Fatalf("rename %q", got)
	}
	say(t, web, "anyone from telegram?")
	awaitTelegramText(t, tg, chat, "[web] Ada: anyone from telegram?")
	say(t, web, "second line")
	awaitTelegramText(t, tg, chat, "[web] Ada: second line")
	texts := tg.Texts(chat)
	if n := count(texts, "[web] Ada: anyone from telegram?"); n != 1 {
		t.Fatalf("the Telegram chat got the web line %d times: %q", n, texts)
	}
	web.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, extra, err := web.ReadMessage(); err == nil {
		t.Fatalf("unexpected message to the web member %q", extra)
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// The same with three botservers and the durable intake: the Telegram
// member's conversation lives in a partition, and the process owning it
// receives its channel. The owner is killed with SIGKILL and started
// again; another process takes the partition (the restarted one has a
// new node id, and may or may not own it again), and what web members on
// any process say reaches the Telegram chat without the member speaking
// again.
func TestRoomMemberOnTelegramFollowsItsPartition(t *testing.T) {
	tg := telegramtest.New(t)
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	const partitions = 8
	cfg := writeConfig(t, fmt.Sprintf(`
layer:
  backend: redis
  redis: {url: %q, prefix: %q}
  intake: {enabled: true, partitions: %d, lease: 2s}
websocket: {addr: "127.0.0.1:0"}
telegram:
  token: %q
  endpoint: %q
  polling: {timeout: 1s, lease_ttl: 1s}
routes:
  websocket: {bot: room}
  telegram: {bot: room}
`, url, prefix, partitions, tg.Token(), tg.Endpoint()))
	const chat, user = int64(6170), int64(61)
	rdb := redistest.Client(t, url)
	ctx := context.Background()
	p := cluster.Partition("telegram", strconv.FormatInt(chat, 10), partitions)
	stream, lease := prefix+":intake:{"+strconv.Itoa(p)+"}", prefix+":intake:{"+strconv.Itoa(p)+"}:lease"

	procs := []*proc{startBotserver(t, true, "-config", cfg), startBotserver(t, true, "-config", cfg), startBotserver(t, true, "-config", cfg)}
	web := wsDial(t, procs[0].addr, "/room/")
	wsRead(t, web) // the welcome
	tg.Text(chat, user, "hello from telegram")
	expectRelayed(t, web, "[telegram]", "hello from telegram")
	// Handled and acknowledged, so that no process is handed the entry
	// again: the member must not speak after the kill.
	awaitCond(t, "the member's message acknowledged", 15*time.Second, func() bool {
		x, err := rdb.XPending(ctx, stream, "owners").Result()
		return err == nil && x.Count == 0
	})

	owner := func() int {
		token, err := rdb.Get(ctx, lease).Result()
		if err != nil {
			return -1
		}
		node, _, _ := strings.Cut(token, ":")
		for i, pr := range procs {
			pr.mu.Lock()
			logs := pr.logs.String()
			pr.mu.Unlock()
			if pr.cmd.ProcessState == nil && strings.Contains(logs, "node="+node) {
				return i
			}
		}
		return -1
	}
	var killed int
	awaitCond(t, "the partition's owner known", 15*time.Second, func() bool { killed = owner(); return killed >= 0 })
	if err := procs[killed].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs[killed].cmd.Wait()
	procs = append(procs, startBotserver(t, true, "-config", cfg))
	awaitCond(t, "the partition taken again", 30*time.Second, func() bool { return owner() >= 0 })
	t.Logf("partition %d: owner %d killed, now owned by process %d (3 is the restarted one)", p, killed, owner())

	speaker := procs[(killed+1)%3]
	webReachesSilentMember(t, speaker.addr, tg, chat)
}
