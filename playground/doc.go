// Package playground runs bots against the project's own stand-ins for
// Telegram and Slack (telegramtest and fakeslack), and serves a page where
// a developer talks to them as a Telegram user, a Slack user and a web
// user at once, with no account and no network: like Bot Framework
// Emulator, for every protocol of a config file.
//
//	botserver playground [-config FILE] [-addr 127.0.0.1:8090]
//
// The config's telegram and slack sections (by kind) are pointed at the
// stand-ins: their tokens, endpoints and modes are replaced (Telegram
// polls, Slack uses Socket Mode); every other section, the routes and
// the bots are the file's own. Without a file it runs the web chat page
// with wschat, and echo on Telegram and Slack.
//
// The page shows what each platform would: Telegram's HTML and Markdown
// formatting, inline keyboards whose buttons send callback queries, edits,
// typing and callback answers; Slack's mrkdwn, Block Kit sections and
// buttons that send block_actions, updates and reactions; and the web
// chat page itself. It listens on loopback by default: it is a developer's
// tool, with no authentication.
package playground
