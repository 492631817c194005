package slack

import (
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
)

// APIError is a call Slack refused, with Slack's own error code. Send and
// Push return it inside an *adapters.RefusedError; errors.As finds either.
type APIError struct {
	// Method is the Web API method, or "response_url".
	Method string
	// Code is Slack's error string ("channel_not_found",
	// "not_in_channel", "is_archived", "msg_too_long", "invalid_auth",
	// "ratelimited"), "http_<status>" for an HTTP failure with no Slack
	// error, or "request_failed" for a network failure.
	Code string
	// Err is the client's error.
	Err error
}

func (e *APIError) Error() string { return "slack: " + e.Method + ": " + e.Code }
func (e *APIError) Unwrap() error { return e.Err }

// Temporary reports whether the same call may succeed later: a rate
// limit, a server error or a network failure, which outlasted the retries.
// A refusal such as channel_not_found or invalid_auth stands.
func (e *APIError) Temporary() bool {
	switch e.Code {
	case "ratelimited", "request_failed", "internal_error", "fatal_error", "service_unavailable",
		"request_timeout", "http_429":
		return true
	}
	return strings.HasPrefix(e.Code, "http_5")
}

// refused wraps e for the runtime.
func (a *Adapter) refused(e *APIError) *adapters.RefusedError {
	return &adapters.RefusedError{Adapter: a.cfg.Name, Method: e.Method, Code: e.Code,
		Temporary: e.Temporary(), Err: e}
}
