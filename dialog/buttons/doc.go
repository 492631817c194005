// Package buttons shows a dialog's choices (dialog.Turn.Ask) as the
// platform's own buttons and routes their presses back to the dialog as
// answers: Telegram inline keyboards, whose presses (callback queries) it
// answers with answerCallbackQuery, and Slack Block Kit buttons, whose
// block actions the Slack adapter acknowledges. Other protocols (IRC, the
// console, the web page) get numbered lines, answered by number or by the
// choice.
//
//	app := dialog.App(order, buttons.Options()...)
//
// A button carries a short token (dialog.Turn.Token), never the choice, so
// any choice fits Telegram's 64 bytes of callback data; the choices stay in
// the conversation's session. A press of a button of an earlier question is
// answered and otherwise ignored.
package buttons
