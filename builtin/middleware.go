package builtin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/router/middleware"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// RegisterMiddleware adds the middleware of package router/middleware to
// r, under the names a route's middleware list uses:
//
//   - logger: logs each scope's life to the server's logger;
//   - recover: turns a handler's panic into the end of its scope alone;
//   - ratelimit: {per_second: 1, burst: 5}: each scope's events wait for
//     a token bucket;
//   - allow_users: [id, ...] and deny_users: [id, ...]: who may talk to
//     the route;
//   - token: SECRET: only requests that carry SECRET, as
//     "Authorization: Bearer SECRET" or "?token=SECRET" (a browser's
//     WebSocket cannot set headers), start a scope; for an operator's
//     route such as the admin console. Write it ${FROM_THE_ENVIRONMENT};
//     logs mask it. An empty token (${ADMIN_TOKEN:-} unset) refuses
//     every request: the route stays shut until a token is set;
//   - timeout: 30s: each event's handler gets that long; then its
//     context ends, the time out is logged, and its scope ends;
//   - sessions, or {sessions: {store: redis, url, prefix, ttl}}: the
//     session store of the bots below it, where consumers with state keep
//     it (see SessionSettings).
func RegisterMiddleware(r *server.Registry) {
	r.RegisterMiddleware("logger", bare(func(s server.MiddlewareSetup) router.Middleware {
		return middleware.Logger(s.Logger)
	}))
	r.RegisterMiddleware("recover", bare(func(server.MiddlewareSetup) router.Middleware {
		return middleware.Recover
	}))
	r.RegisterMiddleware("ratelimit", rateLimit)
	r.RegisterGuard("allow_users", users(middleware.AllowUsers))
	r.RegisterGuard("token", token)
	r.RegisterMiddleware("deny_users", users(middleware.DenyUsers))
	r.RegisterMiddleware("timeout", timeout)
	r.RegisterMiddleware("sessions", sessions)
}

// timeout builds {timeout: 30s}: each event's handler gets that long, then
// its context ends and its scope is cut loose (middleware.Timeout).
func timeout(s server.MiddlewareSetup) (router.Middleware, error) {
	var d time.Duration
	if err := s.Decode(&d); err != nil {
		return nil, err
	}
	if !s.Settings || d <= 0 {
		return nil, errors.New("needs a positive duration: {timeout: 30s}")
	}
	return middleware.Timeout(d, s.Logger), nil
}

// bare is a factory for a middleware that takes no settings.
func bare(f func(server.MiddlewareSetup) router.Middleware) server.MiddlewareFactory {
	return func(s server.MiddlewareSetup) (router.Middleware, error) {
		if s.Settings {
			return nil, errors.New("takes no settings: write it as its name alone")
		}
		return f(s), nil
	}
}

// RateLimitSettings are ratelimit's settings.
type RateLimitSettings struct {
	// PerSecond is how many events a scope may start per second, on
	// average. Required, > 0.
	PerSecond float64 `yaml:"per_second"`
	// Burst is how many events may start at once. Required, >= 1.
	Burst int `yaml:"burst"`
}

func rateLimit(s server.MiddlewareSetup) (router.Middleware, error) {
	var rl RateLimitSettings
	if err := s.Decode(&rl); err != nil {
		return nil, err
	}
	if rl.PerSecond <= 0 || rl.Burst < 1 {
		return nil, errors.New("needs per_second > 0 and burst >= 1: {ratelimit: {per_second: 1, burst: 5}}")
	}
	return middleware.RateLimit(rl.PerSecond, rl.Burst), nil
}

func users(mw func(...string) router.Middleware) server.MiddlewareFactory {
	return func(s server.MiddlewareSetup) (router.Middleware, error) {
		var ids []string
		if err := s.Decode(&ids); err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, errors.New("needs a list of user ids or names: {" + s.Name + ": [\"42\", alice]}")
		}
		return mw(ids...), nil
	}
}

// errBadToken refuses a scope whose request carries no token, or another.
var errBadToken = errors.New("no valid token")

// token builds {token: SECRET}: a scope starts only if its request
// carries SECRET in an Authorization: Bearer header or a token query
// parameter. Chat scopes carry neither, so on a chat route it refuses
// everyone.
func token(s server.MiddlewareSetup) (router.Middleware, error) {
	var secret string
	if err := s.Decode(&secret); err != nil {
		return nil, err
	}
	if !s.Settings {
		return nil, errors.New(`needs the token: {token: "${ADMIN_TOKEN}"}`)
	}
	// Comparing digests takes the same time whatever the lengths.
	want := sha256.Sum256([]byte(secret))
	return middleware.Authorize(func(_ context.Context, sc *scope.Scope) error {
		got := requestToken(sc)
		if secret == "" || got == "" {
			return errBadToken
		}
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			return errBadToken
		}
		return nil
	}), nil
}

// requestToken is the token a WebSocket or HTTP scope's request carries:
// a bearer token, else the token query parameter.
func requestToken(sc *scope.Scope) string {
	if auth, ok := strings.CutPrefix(sc.Headers.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(auth)
	}
	q, err := url.ParseQuery(sc.RawQuery)
	if err != nil {
		return ""
	}
	return q.Get("token")
}
