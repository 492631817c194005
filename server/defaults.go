package server

import (
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/websocket"
)

// DefaultAddr is where the embedded default serves the web chat page.
const DefaultAddr = "127.0.0.1:8080"

// Default returns the configuration botserver runs with when it is given
// no file, for the bots of package builtin: the in-memory layer and the WebSocket adapter on DefaultAddr,
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
