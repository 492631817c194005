package server_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// snippet is a YAML block of a document.
type snippet struct {
	file string
	line int // of the block's first line
	text string
}

// yamlSnippets returns the ```yaml blocks of a Markdown file.
func yamlSnippets(t *testing.T, path string) []snippet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []snippet
	var cur *snippet
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```yaml":
			cur = &snippet{file: path, line: n + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return out
}

// complete makes a config file of a snippet, which shows one section or
// two: it adds what a whole file needs and the snippet leaves out, and
// nothing it has. A route gets the adapter section of its protocol; each
// adapter section gets the credentials its kind requires and a route for
// its protocol; a file with no adapter gets the web chat on a free port.
func complete(t *testing.T, s snippet) string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(s.text), &doc); err != nil {
		t.Fatalf("%s:%d: %v", s.file, s.line, err)
	}
	sections := map[string]bool{"log": true, "layer": true, "scopes": true, "routes": true, "ops": true, "shutdown": true, "bots": true}
	routes, _ := doc["routes"].(map[string]any)
	if routes == nil {
		routes = map[string]any{}
	}
	for proto := range routes {
		if _, ok := doc[proto]; !ok && proto != "http" && proto != "channel" {
			doc[proto] = map[string]any{} // filled in below
		}
	}
	adapters := 0
	for name, v := range doc {
		if sections[name] {
			continue
		}
		adapters++
		sec, _ := v.(map[string]any)
		if sec == nil {
			sec = map[string]any{}
			doc[name] = sec
		}
		kind, _ := sec["kind"].(string)
		if kind == "" {
			kind = name
		}
		need := map[string]map[string]any{
			"telegram":  {"token": "1:snippet"},
			"slack":     {"bot_token": "xoxb-snippet", "app_token": "xapp-snippet"},
			"websocket": {"addr": "127.0.0.1:0"},
			"irc":       {"server": "127.0.0.1:6667", "nick": "snippet"},
		}[kind]
		for k, v := range need {
			if _, ok := sec[k]; !ok {
				sec[k] = v
			}
		}
		if _, ok := routes[kind]; !ok {
			bot := "echo"
			if kind == "websocket" {
				bot = "wschat"
			}
			routes[kind] = map[string]any{"bot": bot}
		}
	}
	if adapters == 0 {
		doc["websocket"] = map[string]any{"addr": "127.0.0.1:0"}
		if _, ok := routes["websocket"]; !ok {
			routes["websocket"] = map[string]any{"bot": "wschat"}
		}
	}
	doc["routes"] = routes
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Every YAML snippet of README.md and docs/config.md passes check once
// completed into a whole file (complete adds only what it leaves out), and
// botserver.example.yaml passes as it is, with its adapters off and on.
func TestDocumentedConfigsPassCheck(t *testing.T) {
	reg := builtin.Registry()
	// README's "Serve your own bots" registers this bot.
	reg.Register("support", func(server.Deps) (scope.Application, error) { return echo.New(), nil })
	vars := env("TELEGRAM_TOKEN", "1:x", "SUPPORT_TOKEN", "2:y", "IRC_PASSWORD", "pw",
		"TELEGRAM_WEBHOOK_SECRET", "hook-secret", "SLACK_BOT_TOKEN", "xoxb-1", "SLACK_APP_TOKEN", "xapp-1",
		"DISCORD_TOKEN", "x.y.z", "MATRIX_TOKEN", "syt_x", "XMPP_PASSWORD", "pw")
	n := 0
	for _, doc := range []string{"../README.md", "../docs/config.md"} {
		for _, s := range yamlSnippets(t, doc) {
			n++
			name := fmt.Sprintf("%s:%d", s.file, s.line)
			t.Run(name, func(t *testing.T) {
				file := complete(t, s)
				cfg, err := server.Parse(name, []byte(file), vars)
				if err == nil {
					err = server.Check(cfg, reg)
				}
				if err != nil {
					t.Fatalf("the snippet at %s fails check:\n%v\nas completed:\n%s", name, err, file)
				}
			})
		}
	}
	if n < 10 {
		t.Fatalf("found %d snippets; the documents hold more", n)
	}
	for _, on := range [][]string{nil, {"TELEGRAM_ENABLED", "true", "SLACK_ENABLED", "true", "ADMIN_TOKEN", "t0ken"}} {
		cfg, err := server.Load("../botserver.example.yaml", env(append(on, "TELEGRAM_TOKEN", "1:x", "SLACK_BOT_TOKEN", "xoxb-1", "SLACK_APP_TOKEN", "xapp-1")...))
		if err == nil {
			err = server.Check(cfg, reg)
		}
		if err != nil {
			t.Fatalf("botserver.example.yaml with %v: %v", on, err)
		}
		if w := server.Warnings(cfg, reg); len(w) > 0 {
			t.Fatalf("botserver.example.yaml warns: %v", w)
		}
	}
}
