// Command botserver runs Switchboard bots from a config file.
//
// With no arguments it runs on embedded defaults: the in-memory channel
// layer and the WebSocket adapter on 127.0.0.1:8080, serving a web chat
// page wired to the wschat bot (and the echo bot on Telegram or Slack when
// their tokens are in the environment). See README.md for the config file.
//
//	botserver [-config FILE] [-grace DURATION]
//	botserver worker -config FILE CHANNEL...
//	botserver check -config FILE
//	botserver playground [-config FILE] [-addr ADDR]
//	botserver -version
//	botserver help
//
// SIGINT or SIGTERM stops it gracefully within shutdown.grace (exit 0, or 1
// if conversations were still running at the deadline); a second signal
// during the grace period stops it at once (exit 1).
package main

import (
	"context"
	"os"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/playground"
	"github.com/switchboard-bots/switchboard/server"
)

// version may be set at build time with -ldflags "-X main.version=...";
// when empty, -version prints the module version and VCS revision from
// the binary's build info.
var version string

func main() {
	reg := builtin.Registry()
	if len(os.Args) > 1 && os.Args[1] == "playground" {
		os.Exit(playground.Command{Registry: reg, Stdout: os.Stdout, Stderr: os.Stderr}.Run(context.Background(), os.Args[2:]))
	}
	server.Main(reg, version)
}
