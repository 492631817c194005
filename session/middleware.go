package session

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/scope"
)

// DefaultTTL is how long a session is kept after its last save unless
// WithTTL says otherwise: long enough that a conversation picked up after a
// holiday still remembers, short enough that abandoned ones go.
const DefaultTTL = 30 * 24 * time.Hour

// Option configures Middleware.
type Option func(*Sessions)

// WithTTL sets how long a session is kept after its last save. 0 keeps it
// until deleted. Default: DefaultTTL.
func WithTTL(d time.Duration) Option { return func(s *Sessions) { s.ttl = d } }

// WithUser maps the platform's user of a scope to the application's own
// user id (an auth hook, like Channels' AuthMiddleware): UserKey then names
// the application's user, so that one person's sessions are one on every
// platform. resolve runs once per scope, before its first event; returning
// "" leaves the platform's user id, and an error refuses the scope.
func WithUser(resolve func(ctx context.Context, s *scope.Scope) (string, error)) Option {
	return func(s *Sessions) { s.user = resolve }
}

// Sessions is what Middleware puts on the scope: the store and how long its
// values live. Get it with From.
type Sessions struct {
	Store Store
	ttl   time.Duration
	user  func(ctx context.Context, s *scope.Scope) (string, error)
}

// TTL returns how long a saved session is kept.
func (ss *Sessions) TTL() time.Duration { return ss.ttl }

type (
	sessionsKey struct{}
	userKey     struct{}
)

// Middleware returns middleware that gives every scope below it the store
// st (see From), and the application's user id when WithUser is given. Its
// type converts to router.Middleware. It panics on a nil store: a wiring
// mistake.
func Middleware(st Store, opts ...Option) func(scope.Application) scope.Application {
	if st == nil {
		panic("session.Middleware: nil Store")
	}
	ss := &Sessions{Store: st, ttl: DefaultTTL}
	for _, o := range opts {
		o(ss)
	}
	return func(next scope.Application) scope.Application {
		if next == nil {
			panic("session.Middleware: nil application")
		}
		return &middleware{next: next, ss: ss}
	}
}

// From returns the sessions that Middleware gave the application of s, or
// nil.
func From(s *scope.Scope) *Sessions {
	ss, _ := s.Value(sessionsKey{}).(*Sessions)
	return ss
}

type middleware struct {
	next scope.Application
	ss   *Sessions
}

func (m *middleware) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	s = s.WithValue(sessionsKey{}, m.ss)
	if m.ss.user != nil {
		id, err := m.ss.user(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("session: user of %s: %w", s, err)
		}
		if id != "" {
			s = s.WithValue(userKey{}, id)
		}
	}
	return m.next.NewInstance(ctx, s, conn)
}

// HandlesProtocol passes the question on to the wrapped application: a
// store on the scope changes nothing of what it handles.
func (m *middleware) HandlesProtocol(protocol string) bool {
	if r, ok := m.next.(interface{ HandlesProtocol(string) bool }); ok {
		return r.HandlesProtocol(protocol)
	}
	return true
}
