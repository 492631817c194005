package telegram

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of the adapter. Test for them with errors.Is; an *APIError
// matches the sentinel of its code.
var (
	ErrNoToken = errors.New("telegram: no bot token configured")
	// ErrUnauthorized: Telegram refused the token (401). Run stops.
	ErrUnauthorized = errors.New("telegram: token refused (401 Unauthorized)")
	// ErrForbidden: the bot may not write to the chat (403): the user
	// blocked it, or it was removed from the group.
	ErrForbidden = errors.New("telegram: forbidden (403)")
	// ErrBadRequest: Telegram refused the call's parameters (400), chat
	// not found among them.
	ErrBadRequest = errors.New("telegram: bad request (400)")
	// ErrConflict: another process polls the token, or a webhook is set
	// (409).
	ErrConflict = errors.New("telegram: conflict (409)")
	// ErrTooManyRequests: flood control (429); RetryAfter says how long.
	ErrTooManyRequests = errors.New("telegram: too many requests (429)")
	// ErrNoChat: an outbound event names no chat and has no scope to take
	// one from.
	ErrNoChat = errors.New("telegram: outbound event names no chat")
	// ErrUnsupportedEvent: the adapter cannot send this event type.
	ErrUnsupportedEvent = errors.New("telegram: unsupported outbound event")
	// ErrBadFile: an InputFile names no file, or more than one, or a path
	// outside upload_dir.
	ErrBadFile = errors.New("telegram: bad input file")
	// ErrBadUpdate: an update that is not valid JSON or has no update_id.
	ErrBadUpdate = errors.New("telegram: bad update")
	// ErrRunning: Run was called twice.
	ErrRunning = errors.New("telegram: adapter already running")
)

// APIError is an error answer of the Bot API.
type APIError struct {
	Method      string
	Code        int
	Description string
	// RetryAfter is how long Telegram asks to wait (429 only).
	RetryAfter time.Duration
	// MigrateToChatID is the new id of a group that became a supergroup.
	MigrateToChatID int64
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram: %s: %d %s", e.Method, e.Code, e.Description)
}

// Is matches the sentinel of the error's code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == 401
	case ErrForbidden:
		return e.Code == 403
	case ErrBadRequest:
		return e.Code == 400
	case ErrConflict:
		return e.Code == 409
	case ErrTooManyRequests:
		return e.Code == 429
	}
	return false
}

// retryable reports whether the call may succeed if repeated.
func (e *APIError) retryable() bool { return e.Code == 429 || e.Code >= 500 }

// NetError is a failed exchange with the Bot API: no connection, a reset,
// a body that is not JSON. Its text never contains the token, which the
// library puts in every URL.
type NetError struct {
	Method string
	msg    string
	cause  error // a context error, if that was the cause; never a URL error
}

func (e *NetError) Error() string { return "telegram: " + e.Method + ": " + e.msg }

// Unwrap returns the context error that caused the failure, if any.
func (e *NetError) Unwrap() error { return e.cause }

// scrub removes the token from s.
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}
