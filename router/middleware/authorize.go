package middleware

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrForbidden is wrapped by the error with which Authorize, AllowUsers and
// DenyUsers refuse a scope.
var ErrForbidden = errors.New("middleware: forbidden")

// Authorize asks allow whether a scope may start, before the wrapped
// application sees it. A non-nil error refuses the scope: NewInstance
// returns an error that names the user and wraps both ErrForbidden and
// allow's error. The decision is made once per scope, so the instance is
// the wrapped application's own and events cost nothing extra.
func Authorize(allow func(ctx context.Context, s *scope.Scope) error) router.Middleware {
	if allow == nil {
		panic("middleware: Authorize: nil function")
	}
	return func(next scope.Application) scope.Application {
		if next == nil {
			panic("middleware: Authorize: nil application")
		}
		return &authorized{next: next, allow: allow}
	}
}

// authorized decides once per scope and hands out the wrapped
// application's own instance, so it is not an EventMiddleware.
type authorized struct {
	next  scope.Application
	allow func(ctx context.Context, s *scope.Scope) error
}

func (a *authorized) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	if err := a.allow(ctx, s); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrForbidden, userName(s.User), err)
	}
	return a.next.NewInstance(ctx, s, conn)
}

// HandlesProtocol implements router.ProtocolReporter for the wrapped
// application: who may start a scope changes nothing of what it handles.
func (a *authorized) HandlesProtocol(protocol string) bool {
	return router.HandlesProtocol(a.next, protocol)
}

// AllowUsers refuses every scope whose user ID is not among ids, including
// scopes without a user.
func AllowUsers(ids ...string) router.Middleware {
	set := idSet("AllowUsers", ids)
	return Authorize(func(_ context.Context, s *scope.Scope) error {
		if _, ok := set[s.User.ID]; !ok {
			return errNotAllowed
		}
		return nil
	})
}

// DenyUsers refuses the scopes whose user ID is among ids.
func DenyUsers(ids ...string) router.Middleware {
	set := idSet("DenyUsers", ids)
	return Authorize(func(_ context.Context, s *scope.Scope) error {
		if _, ok := set[s.User.ID]; ok {
			return errDenied
		}
		return nil
	})
}

var (
	errNotAllowed = errors.New("not an allowed user")
	errDenied     = errors.New("user is denied")
)

func idSet(fn string, ids []string) map[string]struct{} {
	set := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if id == "" {
			// An empty ID is what a scope without a user has; in a list of
			// users it is far more likely an unset variable than a decision
			// about anonymous scopes.
			panic("middleware: " + fn + ": empty user ID")
		}
		set[id] = struct{}{}
	}
	return set
}

func userName(u scope.User) string {
	switch {
	case u.ID == "":
		return "anonymous user"
	case u.Username != "":
		return fmt.Sprintf("user %q (@%s)", u.ID, u.Username)
	default:
		return fmt.Sprintf("user %q", u.ID)
	}
}
