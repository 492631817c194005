package main_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/porttest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
)

// readyzNow returns /readyz's status and body.
func readyzNow(t *testing.T, opsAddr string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + opsAddr + "/readyz")
	if err != nil {
		return 0, err.Error() // not listening yet
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// awaitReadyz asks /readyz until it answers status with a body containing
// each of want, and returns the body.
func awaitReadyz(t *testing.T, opsAddr string, status int, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var code int
	var body string
	for time.Now().Before(deadline) {
		code, body = readyzNow(t, opsAddr)
		if code == status && containsAll(body, want) {
			return body
		}
		time.Sleep(50 * time.Millisecond) // /readyz has no way to be waited on
	}
	t.Fatalf("/readyz never answered %d with %q; last: %d %q", status, want, code, body)
	return ""
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// runBotserver starts the binary on yaml and follows its log.
func runBotserver(t *testing.T, yaml string) *logWatch {
	t.Helper()
	cmd := exec.Command(binary, "-config", writeConfig(t, yaml))
	logs := watchLogs(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	logs.proc = cmd.Process
	return logs
}

// While the Telegram Bot API answers getUpdates with 502, /readyz says
// the telegram adapter cannot reach its platform, and why; once it
// answers again, ready.
func TestReadyzWhileTheBotAPIIsGone(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t)
	ops := porttest.Addr(t)
	runBotserver(t, fmt.Sprintf(`
telegram: {token: %q, endpoint: %q, polling: {timeout: 1s}}
ops: {addr: %q}
routes:
  telegram: {bot: echo}
`, tg.Token(), tg.Endpoint(), ops))
	awaitReadyz(t, ops, http.StatusOK)
	tg.Fail("getUpdates", 4, telegramtest.BadGateway())
	body := awaitReadyz(t, ops, http.StatusServiceUnavailable, "telegram: cannot reach its platform since ", "Bad Gateway")
	t.Logf("with the Bot API gone: %q", body)
	awaitReadyz(t, ops, http.StatusOK)
	// And it serves again.
	tg.Text(42, 42, "back")
	if _, err := tg.AwaitCalls("sendMessage", 1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// While the Redis of the layer refuses writes (out of memory, with
// maxmemory-policy noeviction), /readyz says so; once it has room again,
// ready. The Redis is the test's own: it is filled.
func TestReadyzWhileRedisRefusesWrites(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	ops := porttest.Addr(t)
	runBotserver(t, fmt.Sprintf(`
layer: {backend: redis, redis: {url: %q, prefix: sbready}}
websocket: {addr: "127.0.0.1:0"}
ops: {addr: %q}
routes:
  websocket: {bot: wschat}
`, rs.URL, ops))
	awaitReadyz(t, ops, http.StatusOK)

	opt, err := goredis.ParseURL(rs.URL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	// Big values first, then smaller ones: Redis refuses a write once its
	// memory and the command's own pass maxmemory, so a small write goes
	// through after a big one was refused, until the memory itself is full.
	filled := 0
	for _, size := range []int{64 << 10, 4 << 10, 256, 16} {
		chunk := strings.Repeat("x", size)
		for refused := false; !refused && filled < 1_000_000; filled++ {
			err := rdb.Set(ctx, fmt.Sprintf("fill.%d", filled), chunk, 0).Err()
			switch {
			case err != nil && strings.Contains(err.Error(), "OOM"):
				refused = true
			case err != nil:
				t.Fatal(err)
			}
		}
	}
	if filled >= 1_000_000 {
		t.Fatal("Redis never refused a write")
	}
	body := awaitReadyz(t, ops, http.StatusServiceUnavailable, "layer: refuses writes", "OOM")
	t.Logf("with Redis out of memory after %d writes: %q", filled, body)
	for i := range filled {
		if err := rdb.Del(ctx, fmt.Sprintf("fill.%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	awaitReadyz(t, ops, http.StatusOK)
}

// A Slack that cannot be reached at startup does not stop the server:
// the WebSocket adapter serves meanwhile, /readyz names Slack and why, the
// Slack adapter is started again with a backoff, and serves once Slack
// answers.
func TestSlackUnreachableAtStartupIsRetried(t *testing.T) {
	t.Parallel()
	sl := fakeslack.New(t, fakeslack.Options{})
	sl.Fail("auth.test", fakeslack.Failure{Status: 503}, fakeslack.Failure{Status: 503}, fakeslack.Failure{Status: 503})
	ops := porttest.Addr(t)
	logs := runBotserver(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
slack: {mode: socket, bot_token: %q, app_token: %q, api_url: %q}
ops: {addr: %q}
routes:
  websocket: {bot: wschat}
  slack: {bot: echo}
`, fakeslack.BotToken, fakeslack.AppToken, sl.APIURL, ops))
	line, _ := logs.await(t, 0, "listening on ")
	addr := listening.FindStringSubmatch(line)[1]
	logs.await(t, 0, "adapter cannot reach its platform; starting it again")
	body := awaitReadyz(t, ops, http.StatusServiceUnavailable, "slack: cannot reach its platform", "503")
	t.Logf("with Slack unreachable: %q", body)
	// The WebSocket adapter serves meanwhile.
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := wsRead(t, c); got != "Welcome, Anonymous!" {
		t.Fatalf("websocket while Slack is unreachable: %q", got)
	}
	awaitReadyz(t, ops, http.StatusOK)
	if n := len(sl.Calls("auth.test")); n < 4 {
		t.Fatalf("auth.test called %d times; want the 3 failures and a success", n)
	}
	if n := logs.count("adapter failed; shutting the others down"); n != 0 {
		t.Fatal("an unreachable Slack shut the server down")
	}
}
