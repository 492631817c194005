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
//     updates to a URL with the X-Telegram-Bot-Api-Secret-Token header,
//     retrying an update until the receiver answers 2xx;
//   - sendMessage, editMessageText, answerCallbackQuery, sendChatAction,
//     sendPhoto and sendDocument (form-encoded or multipart) answer like
//     Telegram and are recorded.
//
// Every call is recorded with its parameters, uploaded files and the time
// it arrived; tests wait for calls with WaitCalls instead of sleeping.
// Failures are scripted per method (Fail, with TooManyRequests, ServerError
// and friends) or per chat (Block, ForgetChat).
//
// Updates are made with Text, TopicText, Callback or, for any update kind,
// AddUpdate with the update's JSON.
package telegramtest
