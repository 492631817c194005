package adapters

import (
	"fmt"

	"github.com/switchboard-bots/switchboard/event"
)

// ErrRefused is wrapped by every RefusedError: errors.Is(err, ErrRefused)
// tells a platform's refusal from a network failure. It is
// event.ErrRefused, so that consumers can know it without importing
// adapters.
var ErrRefused = event.ErrRefused

// RefusedError is returned by an adapter's Send when the platform refused
// the call: the user blocked the bot, the chat does not exist, the bot is
// not in the channel. The conversation goes on; the bot decides what to
// do, and errors.As finds the platform's own code.
type RefusedError struct {
	// Adapter names the adapter that made the call.
	Adapter string
	// Method is the platform call: "sendMessage", "chat.postMessage".
	Method string
	// Code is the platform's code for the refusal: "403",
	// "channel_not_found".
	Code string
	// Description is the platform's own words, if any.
	Description string
	// Temporary reports whether the same call may succeed later (a rate
	// limit, a server error), as opposed to a refusal that will stand.
	Temporary bool
	// Err is the adapter's own error, if it has a richer one.
	Err error
}

func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("%s: %s refused (%s)", e.Adapter, e.Method, e.Code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Unwrap returns ErrRefused and the adapter's own error.
func (e *RefusedError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrRefused}
	}
	return []error{ErrRefused, e.Err}
}
