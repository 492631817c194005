package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrHandlerTimeout is wrapped by the error Timeout returns for an event
// whose handler outran the limit. It wraps context.DeadlineExceeded too.
var ErrHandlerTimeout = fmt.Errorf("handler time limit reached: %w", context.DeadlineExceeded)

// Timeout bounds each event's handler to d. The handler's context ends at
// d; if the handler has not returned by then, Timeout logs "handler timed
// out" at Warn to l (slog.Default() when nil) with the scope, adapter,
// conversation key and event type, and returns ErrHandlerTimeout at once
// without waiting for it, which ends the scope (the manager delivers the
// final event and serves the conversation's next event with a new
// instance). A handler that ignores its context is thereby left running
// on its own goroutine, cut off from its scope: the final event is not
// handed to an instance whose handler still runs, since instances handle
// one event at a time, and the conversation's slot under max_scopes is
// free again.
//
// So that it can return while the handler runs on, Timeout runs each
// event's handler on a goroutine of its own: a route pays that only when
// it asks for a limit. The final event is not limited.
func Timeout(d time.Duration, l *slog.Logger) router.Middleware {
	return router.EventMiddleware(func(_ context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		log := l
		if log == nil {
			log = slog.Default()
		}
		next, err := start(conn)
		if err != nil {
			return nil, err
		}
		// running is set while an abandoned handler is still running.
		var running atomic.Bool
		return func(ctx context.Context, ev event.Event) error {
			if _, final := ev.(scope.Final); final {
				if running.Load() {
					return nil // the instance is busy for good: nothing to tell it
				}
				return next(ctx, ev)
			}
			if running.Load() {
				return fmt.Errorf("scope %s: %w: an earlier handler still runs", s, ErrHandlerTimeout)
			}
			hctx, cancel := context.WithTimeout(ctx, d)
			done := make(chan error, 1)
			running.Store(true)
			go func() {
				defer running.Store(false)
				defer cancel()
				done <- next(hctx, ev)
			}()
			select {
			case err := <-done:
				return err
			case <-hctx.Done():
			}
			// Give a handler that minds its context the chance to
			// return its own error.
			select {
			case err := <-done:
				if errors.Is(hctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
					log.LogAttrs(ctx, slog.LevelWarn, "handler timed out", slog.String("scope", s.String()),
						slog.String("adapter", s.Adapter), slog.String("key", s.Key),
						slog.String("event", ev.Type()), slog.Duration("limit", d))
				}
				return err
			case <-time.After(timeoutGrace):
			}
			log.LogAttrs(ctx, slog.LevelWarn, "handler timed out; left running, cut off from its scope",
				slog.String("scope", s.String()), slog.String("adapter", s.Adapter), slog.String("key", s.Key),
				slog.String("event", ev.Type()), slog.Duration("limit", d))
			return fmt.Errorf("scope %s: %s: %w (%v)", s, ev.Type(), ErrHandlerTimeout, d)
		}, nil
	})
}

// timeoutGrace is how long Timeout waits, once the limit is reached, for
// a handler to return after its context ended.
const timeoutGrace = 50 * time.Millisecond
