// Package order is a coffee order bot built from one dialog for every chat
// protocol: which drink and size (buttons on Telegram, Slack and the web
// chat page, numbered choices elsewhere), a name for the order in a nested dialog that offers
// the name given last time, and a confirmation that times out after ten
// minutes. "/back" returns a step, "/cancel" leaves the order, "/last"
// tells the last order. The conversation's position and answers live in
// its session, so it picks up where it was after an idle end or a restart.
// With a timer store on the scope (timer.Middleware and a timer.Runner) it
// also says when the order is ready.
package order
