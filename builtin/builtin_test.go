package builtin_test

import (
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/bots/bridge"
	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func check(t *testing.T, yaml string) error {
	t.Helper()
	cfg, err := server.Parse("bot.yaml", []byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return server.Check(cfg, builtin.Registry())
}

// Every built-in bot builds (the bridge from its settings), and every
// built-in middleware builds from a file.
func TestEverythingBuilds(t *testing.T) {
	reg := builtin.Registry()
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, name := range reg.Names() {
		bot, _ := reg.Lookup(name)
		deps := server.Deps{Layer: l, Logger: slog.New(slog.DiscardHandler)}
		if name == "bridge" {
			deps.Decode = func(v any) error {
				*v.(*bridge.Config) = bridge.Config{Bridges: []bridge.Bridge{{Name: "a", Channels: []string{"irc:#a", "web:/a/"}}}}
				return nil
			}
		}
		if app, err := bot(deps); err != nil || app == nil {
			t.Errorf("bot %q: %v, %v", name, app, err)
		}
	}
	yaml := `console: {}
routes:
  console:
    commands:
      - {command: /echo, bot: echo}
    fallback: {bot: echo}
    middleware:
      - logger
      - recover
      - {ratelimit: {per_second: 2, burst: 3}}
      - {allow_users: ["42", alice]}
      - {deny_users: [bob]}
`
	if err := check(t, yaml); err != nil {
		t.Fatalf("%v\nin:\n%s", err, yaml)
	}
}

// The built-in adapter kinds are registered, and a section of each
// builds.
func TestBuiltinAdapterKinds(t *testing.T) {
	if got := strings.Join(builtin.Registry().AdapterKinds(), ","); got != "console,discord,irc,matrix,slack,telegram,websocket,worker,xmpp" {
		t.Fatalf("adapter kinds %q", got)
	}
	yaml := `websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /ws/}
telegram: {token: "1:x"}
slack: {bot_token: xoxb-1, app_token: xapp-1}
console: {max_line: 100}
irc: {server: "127.0.0.1:6667", nick: bot, channels: ["#room"]}
discord: {token: "x.y.z", shard: {id: 1, count: 2}}
matrix: {homeserver: "https://matrix.example.org", access_token: syt_x, store: /tmp/matrix.json}
xmpp: {jid: bot@example.org, password: pw, rooms: [go@rooms.example.org]}
worker: {channels: [jobs]}
routes:
  websocket: {bot: wschat}
  telegram: {bot: echo}
  slack: {bot: echo}
  console: {bot: echo}
  irc: {bot: echo}
  discord: {bot: echo}
  matrix: {bot: echo}
  xmpp: {bot: echo}
  channel: {channels: {jobs: {bot: report-worker}}}
`
	if err := check(t, yaml); err != nil {
		t.Fatalf("%v\nin:\n%s", err, yaml)
	}
}

func TestMiddlewareSettingsAreChecked(t *testing.T) {
	for _, c := range []struct{ mw, want string }{
		{"{ratelimit: {per_second: 0, burst: 3}}", "ratelimit: needs per_second > 0 and burst >= 1"},
		{"{ratelimit: {per_second: 1, burst: x}}", `ratelimit.burst: want a whole number, got "x"`},
		{"allow_users", `allow_users: needs a list of user ids or names`},
		{"{deny_users: {id: 1}}", "deny_users: want a list, got a map"},
		{"{recover: yes}", "recover: takes no settings"},
	} {
		err := check(t, "console: {}\nroutes:\n  console:\n    bot: echo\n    middleware:\n      - "+c.mw+"\n")
		if err == nil || !strings.HasPrefix(err.Error(), "bot.yaml:6: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.mw, err, c.want)
		}
	}
}
