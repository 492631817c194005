package playground_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/playground"
	"github.com/switchboard-bots/switchboard/server"
)

var stand = playground.Stand{TelegramToken: "1:fake", TelegramEndpoint: "http://127.0.0.1:1/bot%s/%s",
	SlackBotToken: "xoxb-fake", SlackAppToken: "xapp-fake", SlackAPI: "http://127.0.0.1:2/api/"}

// A production config, webhooks, secrets and a second bot of a kind
// included, becomes one that polls and uses Socket Mode against the
// stand-ins, and passes check; the rest is the file's own.
func TestRewritePointsEveryTelegramAndSlackAtTheStandIns(t *testing.T) {
	in := `websocket: {addr: "127.0.0.1:8181", page_path: /, page_socket: /ws/}
telegram:
  token: ${TELEGRAM_TOKEN}
  mode: webhook
  webhook: {url: "https://bot.example.com/tg", secret_token: "${SECRET}", listen: ":8443"}
support:
  kind: telegram
  token: ${SUPPORT_TOKEN}
slack:
  mode: http
  bot_token: ${SLACK_BOT_TOKEN}
  signing_secret: ${SLACK_SIGNING_SECRET}
  listen: ":3000"
routes:
  websocket: {bot: echo}
  telegram: {bot: echo}
  slack: {bot: echo}
`
	out, page, err := playground.Rewrite([]byte(in), stand)
	if err != nil {
		t.Fatal(err)
	}
	if page != "http://127.0.0.1:8181/" {
		t.Errorf("page %q", page)
	}
	for _, gone := range []string{"${", "webhook", "signing_secret", ":8443", ":3000"} {
		if strings.Contains(string(out), gone) {
			t.Errorf("the rewritten config still has %q:\n%s", gone, out)
		}
	}
	cfg, err := server.Parse("playground.yaml", out, func(string) string { return "" })
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := server.Check(cfg, builtin.Registry()); err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if strings.Count(string(out), stand.TelegramEndpoint) != 2 {
		t.Errorf("both Telegram bots should poll the stand-in:\n%s", out)
	}
}

func TestRewriteRefusesAConfigWithNothingToPlayWith(t *testing.T) {
	_, _, err := playground.Rewrite([]byte("websocket: {}\nroutes: {websocket: {bot: echo}}\n"), stand)
	if err == nil || !strings.Contains(err.Error(), "no telegram or slack section") {
		t.Fatalf("Rewrite: %v", err)
	}
}

// The web page's address is expanded as botserver expands it.
func TestRewriteExpandsThePageAddress(t *testing.T) {
	t.Setenv("PLAYGROUND_TEST_HOST", "127.0.0.9")
	_, page, err := playground.Rewrite([]byte(`websocket: {addr: "${PLAYGROUND_TEST_HOST}:${PLAYGROUND_TEST_PORT:-8080}", page_path: /chat/}
telegram: {}
routes: {telegram: {bot: echo}}
`), stand)
	if err != nil || page != "http://127.0.0.9:8080/chat/" {
		t.Fatalf("page %q, %v", page, err)
	}
}
