// Package logs keeps a bot server's logs honest under attack: what an
// attacker sends must not make the log grow with it, nor put a secret in
// it.
//
// Throttle is a slog.Handler wrapper that passes the first records of each
// message (and level) per interval and counts the rest, then writes one
// summary line per message, "suppressed similar lines", with the count.
// A record carrying a stack (a panic's) has its stack written once per
// distinct stack; later records of the same stack carry its short id
// instead.
//
// Redactor masks secrets in text: the password of any URL with
// credentials, anything shaped like a Telegram bot token, and the secret
// values a config file holds. Throttle can redact every record it passes;
// botserver redacts the config errors it prints with the same Redactor.
package logs
