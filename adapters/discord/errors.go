package discord

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/switchboard-bots/switchboard/adapters"
)

// Discord's JSON error codes that a bot meets most.
const (
	CodeUnknownChannel     = 10003
	CodeUnknownMessage     = 10008
	CodeMissingAccess      = 50001
	CodeCannotMessageUser  = 50007
	CodeMissingPermissions = 50013
	CodeInvalidFormBody    = 50035
)

// APIError is Discord's answer to a refused REST call: the HTTP status and
// the JSON error's code and message, such as 403 {"code": 50013,
// "message": "Missing Permissions"}. Code is 0 when Discord sent none.
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("discord: HTTP %d: %d %s", e.Status, e.Code, e.Message)
}

// refusal turns the error of a REST call into an *adapters.RefusedError
// when Discord answered (a refusal, a 429 or a 5xx that outlasted the
// retries); a network error or an ended context is returned as it is.
func (a *Adapter) refusal(method string, err error) error {
	var rest *discordgo.RESTError
	var limited *discordgo.RateLimitError
	switch {
	case errors.As(err, &rest) && rest.Response != nil:
		api := &APIError{Status: rest.Response.StatusCode, Message: http.StatusText(rest.Response.StatusCode)}
		if rest.Message != nil {
			api.Code, api.Message = rest.Message.Code, rest.Message.Message
		}
		code := strconv.Itoa(api.Code)
		if api.Code == 0 {
			code = strconv.Itoa(api.Status)
		}
		return &adapters.RefusedError{Adapter: a.name, Method: method, Code: code, Description: api.Message,
			Temporary: api.Status >= http.StatusInternalServerError, Err: api}
	case errors.As(err, &limited):
		api := &APIError{Status: http.StatusTooManyRequests, Message: limited.Message}
		return &adapters.RefusedError{Adapter: a.name, Method: method, Code: "429",
			Description: "rate limited, retry after " + limited.RetryAfter.String(), Temporary: true, Err: api}
	}
	return err
}
