package builtin_test

import (
	"strings"
	"testing"
)

func TestSessionsSettings(t *testing.T) {
	for _, mw := range []string{
		"sessions",
		"{sessions: {store: memory, ttl: 1h}}",
		`{sessions: {store: redis, url: "redis://127.0.0.1:6379/0", prefix: "bots.", ttl: -1s}}`,
	} {
		if err := check(t, "console: {}\nroutes:\n  console:\n    bot: counter\n    middleware:\n      - "+mw+"\n"); err != nil {
			t.Errorf("%s: %v", mw, err)
		}
	}
	for _, c := range []struct{ mw, want string }{
		{"{sessions: {store: disk}}", `sessions: store: "disk" is not a session store`},
		{"{sessions: {store: redis}}", "sessions: store: redis needs url"},
		{`{sessions: {store: redis, url: "http://x"}}`, "sessions: url:"},
		{`{sessions: {url: "redis://x:1/0"}}`, "sessions: url and prefix are settings of store: redis"},
		{"{sessions: {ttl: soon}}", "sessions.ttl"},
	} {
		err := check(t, "console: {}\nroutes:\n  console:\n    bot: counter\n    middleware:\n      - "+c.mw+"\n")
		if err == nil || !strings.HasPrefix(err.Error(), "bot.yaml:6: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.mw, err, c.want)
		}
	}
}
