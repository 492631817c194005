package server

// DefaultAddr is where the embedded default serves the web chat page.
const DefaultAddr = "127.0.0.1:8080"

// Default returns the configuration botserver runs with when it is given
// no file, for the adapters and bots of package builtin: the in-memory
// layer and a websocket adapter on DefaultAddr, serving the web chat page
// wired to the wschat bot, with the echo bot on a telegram adapter when
// TELEGRAM_TOKEN is set and on a slack adapter (Socket Mode) when
// SLACK_BOT_TOKEN and SLACK_APP_TOKEN are. Its sections are written as a
// file would write them, so the registry's factories decode them.
func Default(getenv func(string) string) *Config {
	c := &Config{
		Adapters: map[string]*AdapterSection{
			"websocket": section("websocket", map[string]string{"addr": DefaultAddr, "page_path": "/", "page_socket": "/ws/chat/"}),
		},
		Routes: map[string]*Route{
			"websocket": {Paths: []*PathRoute{
				{Path: "/ws/chat/", Route: Route{Bot: "wschat"}},
				{Path: "/ws/ping/", Route: Route{Bot: "ping"}},
			}},
		},
		lines: map[string]int{},
	}
	if tok := getenv("TELEGRAM_TOKEN"); tok != "" {
		c.Adapters["telegram"] = section("telegram", map[string]string{"token": tok})
		c.Routes["telegram"] = &Route{Bot: "echo"}
	}
	if bot, app := getenv("SLACK_BOT_TOKEN"), getenv("SLACK_APP_TOKEN"); bot != "" && app != "" {
		c.Adapters["slack"] = section("slack", map[string]string{"bot_token": bot, "app_token": app})
		c.Routes["slack"] = &Route{Bot: "echo"}
	}
	return c
}

// section is NewAdapterSection for settings that always encode.
func section(kind string, settings map[string]string) *AdapterSection {
	sec, err := NewAdapterSection(kind, settings)
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return sec
}
