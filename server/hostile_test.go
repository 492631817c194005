package server_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/server"
)

// aliasBomb is a "billion laughs" config: each level maps nine keys to
// the level below, so that 9 levels of a few hundred bytes stand for 9^8
// routes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("routes:\n  l0: &l0 {bot: echo}\n")
	for i := 1; i <= 8; i++ {
		var ents []string
		for j := range 9 {
			ents = append(ents, fmt.Sprintf("k%d: *l%d", j, i-1))
		}
		fmt.Fprintf(&b, "  l%d: &l%d {channels: {%s}}\n", i, i, strings.Join(ents, ", "))
	}
	return b.String()
}

func TestAliasBombIsRefusedAtItsLine(t *testing.T) {
	start := time.Now()
	_, err := server.Parse("bomb.yaml", []byte(aliasBomb()), env())
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Parse took %v on an alias bomb: the expansion is not bounded", took)
	}
	if !errors.Is(err, server.ErrAliasBomb) {
		t.Fatalf("err = %v, want ErrAliasBomb", err)
	}
	if !strings.HasPrefix(err.Error(), "bomb.yaml:") || !strings.Contains(err.Error(), "(at *l") {
		t.Fatalf("the error does not name the file, line and alias: %v", err)
	}
}

func TestModestAliasesStillWork(t *testing.T) {
	y := "scopes: &s {idle_timeout: 1m}\nwebsocket:\n  addr: 127.0.0.1:0\n  scopes: *s\nconsole: {}\nroutes:\n  websocket: {bot: echo, middleware: &m [recover, logger]}\n  console: {bot: echo, middleware: *m}\n"
	cfg, err := server.Parse("ok.yaml", []byte(y), env())
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Check(cfg, builtin.Registry()); err != nil {
		t.Fatal(err)
	}
}

func TestEnabledTakesOnlyABoolean(t *testing.T) {
	for _, v := range []string{"null", "~", "", "yes please", "[true]"} {
		y := "telegram:\n  token: 123:abc\n  enabled: ${TELEGRAM_ENABLED}\nroutes:\n  telegram: {bot: echo}\n"
		_, err := server.Parse("bot.yaml", []byte(y), env("TELEGRAM_ENABLED", v))
		if v == "" {
			// unset: ${VAR} without a default is its own error
			if err == nil {
				t.Errorf("enabled: ${TELEGRAM_ENABLED} unset: no error")
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "bot.yaml:3:") || !strings.Contains(err.Error(), "takes true or false") {
			t.Errorf("enabled: %s: err = %v, want an error at bot.yaml:3", v, err)
		}
	}
	for _, y := range []string{"telegram:\n  enabled:\nroutes: {}\n", "telegram:\n  enabled: ~\n"} {
		if _, err := server.Parse("bot.yaml", []byte(y), env()); err == nil || !strings.Contains(err.Error(), "bot.yaml:2:") {
			t.Errorf("%q: err = %v, want an error at bot.yaml:2", y, err)
		}
	}
	cfg, err := server.Parse("bot.yaml", []byte("telegram:\n  enabled: ${E}\n"), env("E", "false"))
	if err != nil || cfg.Adapters["telegram"].Enabled == nil || *cfg.Adapters["telegram"].Enabled {
		t.Fatalf("enabled: false from the environment: %v", err)
	}
}

const botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

func TestConfigErrorsNeverShowASecret(t *testing.T) {
	cases := map[string]string{
		"redis password that does not parse": "layer:\n  backend: redis\n  redis:\n    url: redis://admin:hunter2%zz@127.0.0.1:6379/0\nroutes: {websocket: {bot: echo}}\nwebsocket: {addr: 127.0.0.1:0}\n",
		"token in the endpoint":              "telegram:\n  token: ${TG}\n  endpoint: https://api.example.org/bot" + botToken + "/%s\nroutes: {telegram: {bot: echo}}\n",
		"token in an unknown key":            "telegram:\n  token: ${TG}\n  tokn: " + botToken + "\nroutes: {telegram: {bot: echo}}\n",
		"secret in a wrong value":            "telegram:\n  token: ${TG}\n  webhook: {secret_token: 'hunter2 hunter2'}\nroutes: {telegram: {bot: echo}}\n",
	}
	for name, y := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := server.Parse("bot.yaml", []byte(y), env("TG", botToken))
			if err == nil {
				err = server.Check(cfg, builtin.Registry())
				if err != nil {
					red := cfg.Redactor()
					err = errors.New(red.String(err.Error()))
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, secret := range []string{"hunter2", botToken, "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the error shows a secret: %v", err)
				}
			}
		})
	}
}
