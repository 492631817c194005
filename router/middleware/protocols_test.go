package middleware

import (
	"context"
	"log/slog"
	"testing"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// webOnly is an application that handles WebSocket scopes only.
type webOnly struct{ app }

func (*webOnly) HandlesProtocol(p string) bool { return p == "websocket" }

// Every middleware here passes the protocol question on to what it wraps,
// so a server's check sees through a whole stack.
func TestMiddlewareForwardsHandlesProtocol(t *testing.T) {
	for name, mw := range map[string]router.Middleware{
		"Recover":   Recover,
		"Logger":    Logger(slog.New(&capture{})),
		"RateLimit": RateLimit(5, 10),
		"Authorize": Authorize(func(context.Context, *scope.Scope) error { return nil }),
		"all":       router.Chain(Recover, Logger(nil), RateLimit(1, 1), AllowUsers("1")),
	} {
		app := mw(&webOnly{})
		if !router.HandlesProtocol(app, "websocket") || router.HandlesProtocol(app, "telegram") {
			t.Errorf("%s does not forward HandlesProtocol", name)
		}
	}
}
