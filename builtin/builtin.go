package builtin

import (
	"time"

	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/irc"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/adapters/worker"
	"github.com/switchboard-bots/switchboard/adapters/xmpp"
	"github.com/switchboard-bots/switchboard/bots/admin"
	"github.com/switchboard-bots/switchboard/bots/bridge"
	"github.com/switchboard-bots/switchboard/bots/counter"
	"github.com/switchboard-bots/switchboard/bots/djangochat"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/bots/order"
	"github.com/switchboard-bots/switchboard/bots/ping"
	"github.com/switchboard-bots/switchboard/bots/remind"
	"github.com/switchboard-bots/switchboard/bots/report"
	"github.com/switchboard-bots/switchboard/bots/room"
	"github.com/switchboard-bots/switchboard/bots/wschat"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// Registry returns a new registry holding the built-in adapters (see
// RegisterAdapters), middleware (see RegisterMiddleware) and bots:
//
//   - echo: answers every chat message with "You said: <text>", on any
//     chat protocol; "chatty" is the same bot under the name the routing
//     examples use;
//   - wschat: a WebSocket chat that welcomes "Anonymous", renames with
//     /name and echoes "name: text";
//   - ping: a WebSocket consumer that answers "pong" a second later;
//   - room: a cross-protocol room: web, Telegram, Slack and console members
//     of a room see each other's messages;
//   - admin: an operator's WebSocket console ("/announce <text>"),
//     registered privileged: check warns about a route to it without a
//     token or allow_users;
//   - report and report-worker: a chat bot that hands "/report <topic>"
//     to a worker on the "report.jobs" channel, and that worker;
//   - djangochat: a chat bot whose chats "/join <room>" a chat room of a
//     Django Channels site (the Channels tutorial's chat) on a shared
//     Redis layer.
//   - counter: answers the n-th message of a conversation with "#n" and
//     remembers the count (in the store of the sessions middleware);
//   - order: a coffee order dialog with buttons on Telegram and Slack and
//     numbered choices elsewhere, remembering the last order and name;
//   - remind: "remind NAME in 10m TEXT" reminders, on an adapter with
//     timers.
//
// Each call returns a registry of its own, so a program can add to it.
func Registry() *server.Registry {
	r := server.NewRegistry()
	RegisterAdapters(r)
	RegisterMiddleware(r)
	r.Register("echo", func(server.Deps) (scope.Application, error) { return echo.New(), nil })
	r.Register("chatty", func(server.Deps) (scope.Application, error) { return echo.New(), nil })
	r.Register("wschat", func(server.Deps) (scope.Application, error) { return wschat.New(), nil })
	r.Register("ping", func(server.Deps) (scope.Application, error) { return ping.New(time.Second), nil })
	r.Register("room", func(d server.Deps) (scope.Application, error) { return room.New(room.ObserveDrops(d.Drops)), nil })
	r.RegisterPrivileged("admin", func(server.Deps) (scope.Application, error) { return admin.New(), nil })
	r.Register("report", func(server.Deps) (scope.Application, error) { return report.New(), nil })
	r.Register("report-worker", func(server.Deps) (scope.Application, error) { return report.NewWorker(), nil })
	r.Register("bridge", func(d server.Deps) (scope.Application, error) {
		var cfg bridge.Config
		if d.Decode != nil {
			if err := d.Decode(&cfg); err != nil {
				return nil, err
			}
		}
		return bridge.New(cfg)
	})
	r.Register("djangochat", func(server.Deps) (scope.Application, error) { return djangochat.New(), nil })
	r.Register("counter", func(server.Deps) (scope.Application, error) { return counter.New(), nil })
	r.Register("order", func(server.Deps) (scope.Application, error) { return order.New(order.Config{}), nil })
	r.Register("remind", func(server.Deps) (scope.Application, error) { return remind.New(), nil })
	return r
}

// RegisterAdapters adds the built-in adapter kinds to r, each built from a
// top-level section of the config file named by the kind (or with
// "kind: <kind>"):
//
//   - websocket: the WebSocket and HTTP adapter, with the web chat page
//     (package adapters/websocket);
//   - telegram: a Telegram bot, polling or on a webhook; on the Redis
//     layer, processes elect one poller (adapters/telegram);
//   - slack: a Slack app, in Socket Mode or over HTTP (adapters/slack);
//   - console: the process's standard input and output (adapters/console);
//   - irc: an IRC bot in channels and private conversations
//     (adapters/irc);
//   - discord: a Discord bot, or one shard of it, over the Gateway and
//     the REST API (adapters/discord);
//   - matrix: a Matrix bot account in its rooms, its sync position kept
//     in a store file (adapters/matrix);
//   - xmpp: an XMPP client in rooms and one-to-one chats (adapters/xmpp);
//   - worker: serves layer channels, its "channels" setting or the
//     channels of `botserver worker` (adapters/worker).
func RegisterAdapters(r *server.Registry) {
	r.RegisterAdapter("websocket", websocket.Factory)
	r.RegisterAdapter("telegram", telegram.Factory)
	r.RegisterAdapter("slack", slack.Factory)
	r.RegisterAdapter("console", console.Factory)
	r.RegisterAdapter("irc", irc.Factory)
	r.RegisterAdapter("discord", discord.Factory)
	r.RegisterAdapter("matrix", matrix.Factory)
	r.RegisterAdapter("xmpp", xmpp.Factory)
	r.RegisterAdapter(server.WorkerKind, worker.Factory)
}
