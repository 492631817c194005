package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/server"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestBadConfigsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "ops:\n  adress: 127.0.0.1:1\n",
			[]string{"bot.yaml:2:", "ops.adress", `unknown key "adress"`}},
		{"near miss", "routes:\n  websocket:\n    Bot: echo\n",
			[]string{"bot.yaml:3:", `did you mean "bot"?`}},
		{"wrong type", "scopes:\n  inbox_size: lots\n",
			[]string{"bot.yaml:2:", "scopes.inbox_size: want a whole number", "lots"}},
		{"wrong duration", "shutdown:\n  grace: soon\n",
			[]string{"bot.yaml:2:", "soon"}},
		{"unset variable", "telegram:\n  token: ${NO_SUCH_TOKEN}\n",
			[]string{"bot.yaml:2:", "${NO_SUCH_TOKEN} is not set"}},
		{"not yaml", "routes: [\n", []string{"bot.yaml:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := server.Parse("bot.yaml", []byte(c.yaml), env())
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// Check (Validate, then building every adapter, route and middleware)
// names the file, line and section of each mistake, the adapters' own
// settings included.
func TestCheckNamesTheSection(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"missing token", "console: {}\ntelegram:\n  mode: polling\nroutes:\n  telegram:\n    bot: echo\n",
			[]string{"bot.yaml:2:", "telegram", "token"}},
		{"unknown bot", "console: {}\nroutes:\n  console:\n    bot: nobody\n",
			[]string{"bot.yaml:4:", "routes.console.bot", `no bot named "nobody"`, "echo"}},
		{"two kinds", "console: {}\nroutes:\n  console:\n    bot: echo\n    commands:\n      - command: /start\n        bot: echo\n",
			[]string{"bot.yaml:3:", "one of bot, paths, commands or channels"}},
		{"no routes", "console: {}\n", []string{"no routes"}},
		{"bad middleware", "console: {}\nroutes:\n  console:\n    bot: echo\n    middleware: [loger]\n",
			[]string{"bot.yaml:5:", `unknown middleware "loger"`, "logger, ratelimit"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := server.Parse("bot.yaml", []byte(c.yaml), env())
			if err != nil {
				t.Fatal(err)
			}
			err = server.Check(cfg, builtin.Registry())
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if ce, ok := errors.AsType[*server.ConfigError](err); !ok || ce.File != "bot.yaml" {
				t.Errorf("not a ConfigError naming the file: %#v", err)
			}
		})
	}
}

// ${VAR} expands in every section, an adapter's included, typed as the
// setting it fills.
func TestEnvironmentExpands(t *testing.T) {
	cfg, err := server.Parse("bot.yaml", []byte(`
fake:
  greeting: ${GREETING}
  idle: ${IDLE:-45s}
shutdown:
  grace: ${GRACE:-3s}
routes:
  fake: {bot: replier}
`), env("GREETING", "howdy", "GRACE", "7s"))
	if err != nil {
		t.Fatal(err)
	}
	f := new(fakes)
	if err := server.Check(cfg, fakeRegistry(f)); err != nil {
		t.Fatal(err)
	}
	a := f.get("fake")
	if a == nil || a.cfg.Greeting != "howdy" || a.cfg.Idle != 45*time.Second || cfg.Shutdown.Grace != 7*time.Second {
		t.Fatalf("got adapter %+v, grace %v", a, cfg.Shutdown.Grace)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	for _, vars := range [][]string{
		nil, // runs as it is, on the WebSocket adapter alone
		{"TELEGRAM_ENABLED", "true", "TELEGRAM_TOKEN", "1:x", "SLACK_ENABLED", "true", "SLACK_BOT_TOKEN", "xoxb-1", "SLACK_APP_TOKEN", "xapp-1"},
	} {
		cfg, err := server.Load("../botserver.example.yaml", env(vars...))
		if err != nil {
			t.Fatal(err)
		}
		if err := server.Check(cfg, builtin.Registry()); err != nil {
			t.Fatalf("with %v: %v", vars, err)
		}
	}
	cfg, _ := server.Load("../botserver.example.yaml", env("TELEGRAM_ENABLED", "true"))
	if err := server.Check(cfg, builtin.Registry()); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("telegram on without a token: %v", err)
	}
}

// The embedded default builds with the built-in registry: the web chat
// page alone, and Telegram and Slack when their tokens are set.
func TestDefaultConfigBuilds(t *testing.T) {
	for _, vars := range [][]string{
		nil,
		{"TELEGRAM_TOKEN", "1:x", "SLACK_BOT_TOKEN", "xoxb-1", "SLACK_APP_TOKEN", "xapp-1"},
	} {
		cfg := server.Default(env(vars...))
		if err := server.Check(cfg, builtin.Registry()); err != nil {
			t.Fatalf("with %v: %v", vars, err)
		}
		if got, want := len(cfg.Adapters), 1+len(vars)/3; got != want {
			t.Errorf("with %v: %d adapters, want %d", vars, got, want)
		}
	}
}

func TestTimersSection(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // errors; none: valid
	}{
		{"short form", "console:\n  timers: true\nroutes: {console: {bot: remind}}\n", nil},
		{"section", "console:\n  timers: {poll_interval: 20ms, lease: 1s, batch: 10}\nroutes: {console: {bot: remind}}\n", nil},
		{"turned off", "console:\n  timers: {enabled: false}\nroutes: {console: {bot: remind}}\n", nil},
		{"unknown key", "console:\n  timers: {leese: 1s}\nroutes: {console: {bot: remind}}\n",
			[]string{"bot.yaml:2:", `unknown key "leese"`}},
		{"negative", "console:\n  timers: {lease: -1s}\nroutes: {console: {bot: remind}}\n",
			[]string{"bot.yaml:2:", "console.timers: lease must not be negative"}},
		{"not a switch", "console:\n  timers: sometimes\nroutes: {console: {bot: remind}}\n",
			[]string{"bot.yaml:2:", "console.timers takes true or false"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := server.Parse("bot.yaml", []byte(c.yaml), env())
			if err == nil {
				err = cfg.Validate(builtin.Registry())
			}
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
