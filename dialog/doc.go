// Package dialog writes multi-step conversations as data: a Dialog is a set
// of named steps, each with what it asks when the conversation arrives at
// it and what it does with the answer, which names the next step. App
// turns a Dialog into a chat consumer, so one definition serves every chat
// protocol (Telegram, Slack, IRC, the console, the web page).
//
// Where a conversation is in its dialogs lives in its session
// (consumer.Stateful), so an idle end, an eviction, a restart or a move to
// another process picks up at the same step. A step may time out (Step.
// Timeout): with a timer store on the scope (timer.Middleware) the timeout
// fires on its own, otherwise on the first message after it. "/cancel"
// leaves every dialog and "/back" returns to the previous step; both
// commands are settings. A step may run a nested Dialog (Step.Sub) and go
// on at Step.Then once it is done.
//
// Turn.Ask asks a question with choices: numbered lines that the user
// answers with the number or the choice itself, on every protocol.
package dialog
