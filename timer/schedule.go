package timer

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

type storeKey struct{}

type onScope struct {
	st    Store
	clock Clock
}

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*onScope)

// WithClock sets the clock After counts from. Default: the wall clock.
func WithClock(c Clock) MiddlewareOption {
	return func(o *onScope) {
		if c != nil {
			o.clock = c
		}
	}
}

// Middleware returns middleware that gives the scopes below it st, where
// After, At and Cancel keep their timers. Its type converts to
// router.Middleware. It panics on a nil store.
func Middleware(st Store, opts ...MiddlewareOption) func(scope.Application) scope.Application {
	if st == nil {
		panic("timer.Middleware: nil Store")
	}
	o := &onScope{st: st, clock: scope.WallClock{}}
	for _, opt := range opts {
		opt(o)
	}
	return func(next scope.Application) scope.Application {
		if next == nil {
			panic("timer.Middleware: nil application")
		}
		return &middleware{next: next, o: o}
	}
}

type middleware struct {
	next scope.Application
	o    *onScope
}

func (m *middleware) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	return m.next.NewInstance(ctx, s.WithValue(storeKey{}, m.o), conn)
}

// HandlesProtocol passes the question on to the wrapped application.
func (m *middleware) HandlesProtocol(protocol string) bool {
	if r, ok := m.next.(interface{ HandlesProtocol(string) bool }); ok {
		return r.HandlesProtocol(protocol)
	}
	return true
}

func from(s *scope.Scope) (*onScope, error) {
	o, ok := s.Value(storeKey{}).(*onScope)
	if !ok {
		return nil, ErrNoTimers
	}
	return o, nil
}

// After schedules ev into the conversation of s in d, under name: a
// pending timer of that name is replaced.
func After(ctx context.Context, s *scope.Scope, name string, d time.Duration, ev event.Event) error {
	o, err := from(s)
	if err != nil {
		return err
	}
	return at(ctx, o, s, name, o.clock.Now().Add(d), ev)
}

// At schedules ev into the conversation of s at t, under name: a pending
// timer of that name is replaced.
func At(ctx context.Context, s *scope.Scope, name string, t time.Time, ev event.Event) error {
	o, err := from(s)
	if err != nil {
		return err
	}
	return at(ctx, o, s, name, t, ev)
}

func at(ctx context.Context, o *onScope, s *scope.Scope, name string, t time.Time, ev event.Event) error {
	if name == "" {
		return fmt.Errorf("timer: schedule %s in %s: a timer needs a name", ev.Type(), s)
	}
	err := o.st.Schedule(ctx, Timer{Adapter: adapterOf(s), Key: s.Key, Name: name, At: t, Event: ev, Scope: FactsOf(s)})
	if err != nil {
		return fmt.Errorf("timer: schedule %q in %s: %w", name, s, err)
	}
	return nil
}

// Cancel removes the pending timer name of the conversation of s, and
// reports whether there was one.
func Cancel(ctx context.Context, s *scope.Scope, name string) (bool, error) {
	o, err := from(s)
	if err != nil {
		return false, err
	}
	return o.st.Cancel(ctx, adapterOf(s), s.Key, name)
}

// adapterOf is the name of the adapter serving s: its Adapter, or its
// protocol when the adapter is named after it.
func adapterOf(s *scope.Scope) string {
	if s.Adapter != "" {
		return s.Adapter
	}
	return s.Type
}
