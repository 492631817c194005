package main_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// In JSON mode every line botserver writes is a JSON record, the banner
// included, and durations are text; the startup summary names the
// version, the layer, the routes and each adapter with its mode, and each
// adapter says when it is connected, as which bot.
func TestJSONLogsSummaryAndConnections(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t)
	sl := fakeslack.New(t, fakeslack.Options{})
	cmdLogs := runBotserver(t, fmt.Sprintf(`
log: {format: json}
websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /ws/}
telegram: {token: %q, endpoint: %q, polling: {timeout: 1s}}
slack: {mode: socket, bot_token: %q, app_token: %q, api_url: %q}
routes:
  websocket: {paths: [{path: /ws/, bot: wschat}]}
  telegram: {bot: echo}
  slack: {bot: echo}
shutdown: {grace: 3s}
`, tg.Token(), tg.Endpoint(), fakeslack.BotToken, fakeslack.AppToken, sl.APIURL))
	start, _ := cmdLogs.await(t, 0, `"msg":"botserver starting"`)
	banner, _ := cmdLogs.await(t, 0, `"msg":"listening; open the page in a browser`)
	tgLine, _ := cmdLogs.await(t, 0, `"msg":"adapter connected","adapter":"telegram"`)
	slLine, _ := cmdLogs.await(t, 0, `"msg":"adapter connected","adapter":"slack"`)
	cmdLogs.await(t, 0, `"msg":"adapter connected","adapter":"websocket"`)

	var summary struct {
		Version  string   `json:"version"`
		Layer    string   `json:"layer"`
		Adapters []string `json:"adapters"`
		Routes   []string `json:"routes"`
	}
	if err := json.Unmarshal([]byte(start), &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Version != "test" || summary.Layer != "memory" || len(summary.Adapters) != 3 ||
		!strings.Contains(strings.Join(summary.Routes, "|"), "websocket: /ws/ wschat") {
		t.Fatalf("startup summary: %+v", summary)
	}
	mode, _ := cmdLogs.await(t, 0, `"msg":"adapter configured","adapter":"slack"`)
	if !strings.Contains(mode, `"mode":"socket"`) {
		t.Fatalf("the slack adapter's mode is not in the summary: %s", mode)
	}
	if !strings.Contains(banner, `"page":"http://`) {
		t.Fatalf("banner: %s", banner)
	}
	if want := `"bot":"@` + tg.Bot().UserName + `"`; !strings.Contains(tgLine, want) {
		t.Fatalf("telegram connected without its bot's name (%s): %s", want, tgLine)
	}
	if !strings.Contains(slLine, `"bot_id":"`+fakeslack.BotUserID+`"`) {
		t.Fatalf("slack connected without its bot: %s", slLine)
	}

	// Stop it, and check every line of the whole run.
	if err := cmdLogs.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stop, _ := cmdLogs.await(t, 0, `"msg":"stopping; a second signal stops at once"`)
	if !strings.Contains(stop, `"grace":"3s"`) {
		t.Fatalf("a duration in JSON is not text: %s", stop)
	}
	cmdLogs.await(t, 0, `"msg":"adapter disconnected","adapter":"telegram"`)
	cmdLogs.mu.Lock()
	defer cmdLogs.mu.Unlock()
	for _, line := range cmdLogs.lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("not JSON: %s", line)
		}
	}
}
