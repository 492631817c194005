// Package buttons shows a dialog's choices (dialog.Turn.Ask) as the
// platform's own buttons and routes their presses back to the dialog as
// answers: Telegram inline keyboards, whose presses (callback queries) it
// answers with answerCallbackQuery; Slack Block Kit buttons, whose block
// actions the Slack adapter acknowledges; and buttons on the web chat
// page, which the WebSocket adapter shows for an event.Ask and whose
// clicks it delivers as event.Answer. Every press reaches the dialog as an
// event.Answer (Answer), Telegram's and Slack's through their handlers.
// Other protocols (IRC, the console, a WebSocket client without the chat
// page's protocol) get numbered lines, answered by number or by the
// choice.
//
//	app := dialog.App(order, buttons.Options()...)
//
// A button carries a short token (dialog.Turn.Token), never the choice, so
// any choice fits Telegram's 64 bytes of callback data; the choices stay in
// the conversation's session. A press of a button of an earlier question is
// answered (on Telegram) or told (on the web page) and otherwise ignored.
package buttons
