package server

import (
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/bots/admin"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/bots/ping"
	"github.com/switchboard-bots/switchboard/bots/report"
	"github.com/switchboard-bots/switchboard/bots/room"
	"github.com/switchboard-bots/switchboard/bots/wschat"
	"github.com/switchboard-bots/switchboard/scope"
)

// DefaultAddr is where the embedded default serves the web chat page.
const DefaultAddr = "127.0.0.1:8080"

// Builtins returns a registry holding the built-in bots:
//
//   - echo: answers every chat message with "You said: <text>", on any
//     chat protocol; "chatty" is the same bot under the name the routing
//     examples use;
//   - wschat: a WebSocket chat that welcomes "Anonymous", renames with
//     /name and echoes "name: text";
//   - ping: a WebSocket consumer that answers "pong" a second later;
//   - room: a cross-protocol room: web, Telegram, Slack and console members
//     of a room see each other's messages;
//   - admin: an operator's WebSocket console ("/announce <text>");
//   - report and report-worker: a chat bot that hands "/report <topic>"
//     to a worker on the "report.jobs" channel, and that worker.
func Builtins() *Registry {
	r := NewRegistry()
	r.Register("echo", func(Deps) (scope.Application, error) { return echo.New(), nil })
	r.Register("chatty", func(Deps) (scope.Application, error) { return echo.New(), nil })
	r.Register("wschat", func(Deps) (scope.Application, error) { return wschat.New(), nil })
	r.Register("ping", func(Deps) (scope.Application, error) { return ping.New(time.Second), nil })
	r.Register("room", func(Deps) (scope.Application, error) { return room.New(), nil })
	r.Register("admin", func(Deps) (scope.Application, error) { return admin.New(), nil })
	r.Register("report", func(Deps) (scope.Application, error) { return report.New(), nil })
	r.Register("report-worker", func(Deps) (scope.Application, error) { return report.NewWorker(), nil })
	return r
}

// Default returns the configuration botserver runs with when it is given
// no file: the in-memory layer and the WebSocket adapter on DefaultAddr,
// serving the web chat page wired to the wschat bot, with the echo bot on
// Telegram when TELEGRAM_TOKEN is set and on Slack (Socket Mode) when
// SLACK_BOT_TOKEN and SLACK_APP_TOKEN are.
func Default(getenv func(string) string) *Config {
	c := &Config{
		WebSocket: &WebSocketConfig{Config: websocket.Config{
			Addr: DefaultAddr, PagePath: "/", PageSocket: "/ws/chat/",
		}},
		Routes: map[string]*Route{
			"websocket": {Paths: []*PathRoute{
				{Path: "/ws/chat/", Route: Route{Bot: "wschat"}},
				{Path: "/ws/ping/", Route: Route{Bot: "ping"}},
			}},
		},
		lines: map[string]int{},
	}
	if tok := getenv("TELEGRAM_TOKEN"); tok != "" {
		c.Telegram = &TelegramConfig{Config: telegram.Config{Token: telegram.Secret(tok)}}
		c.Routes["telegram"] = &Route{Bot: "echo"}
	}
	if bot, app := getenv("SLACK_BOT_TOKEN"), getenv("SLACK_APP_TOKEN"); bot != "" && app != "" {
		c.Slack = &SlackConfig{Config: slack.Config{BotToken: bot, AppToken: app}}
		c.Routes["slack"] = &Route{Bot: "echo"}
	}
	return c
}
