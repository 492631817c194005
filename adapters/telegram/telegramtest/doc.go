// Package telegramtest is a fake Telegram Bot API server for tests. It
// speaks the Bot API over real HTTP, as documented by Telegram, so that an
// adapter or a bot is tested with the same client code it runs in
// production:
//
//   - getMe answers with the fake bot's identity;
//   - getUpdates honours offset (updates below it are forgotten for good),
//     limit and timeout (a long poll returns as soon as an update arrives),
//     and answers 409 to the older of two concurrent polls, as Telegram
//     does when two processes poll one token;
//   - setWebhook and deleteWebhook switch between polling and pushing
//     updates to a URL with the X-Telegram-Bot-Api-Secret-Token header:
//     up to max_connections requests at once (default 40), one chat's
//     updates in order (its next only after a 2xx), retrying an update
//     until the receiver answers 2xx;
//   - with WithFloodControl, messages over Telegram's limits (30/s for the
//     bot, 1/s per private chat, 20/min per group) get 429 "Too Many
//     Requests: retry after N" with parameters.retry_after;
//   - sendMessage, editMessageText, answerCallbackQuery, sendChatAction,
//     sendPhoto and sendDocument (form-encoded or multipart) answer like
//     Telegram and are recorded.
//
// Every call is recorded with its parameters, uploaded files and the time
// it arrived; tests wait for calls with WaitCalls instead of sleeping.
// Failures are scripted per method (Fail, with TooManyRequests, ServerError
// and friends) or per chat (Block answers 403 "Forbidden: bot was blocked
// by the user" until Unblock; ForgetChat answers 400 "Bad Request: chat
// not found"). Offsets lists the offsets getUpdates received; InFlight
// counts the updates handed to the bot and not yet confirmed, Confirmed
// those of a chat the bot confirmed. Drop breaks the open connections, as
// a network failure does.
//
// Updates are made with Text, TopicText, Callback or, for any update kind,
// AddUpdate with the update's JSON.
package telegramtest
