package middleware

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Logger logs the life of each scope to l (slog.Default() when nil):
//
//   - "scope started" at Info, with the protocol, key, user id and, when
//     set, path and channel;
//   - "scope refused" at Error when the wrapped application refuses the
//     scope, with the error;
//   - "event" at Debug for each event handled, with its type and how long
//     Handle took;
//   - "event failed" at Error when Handle returns an error, with the event
//     type, duration and error;
//   - "scope ended" at Info for the final event, with the reason and how
//     long the scope lived.
//
// Every record carries the scope as "scope" (Scope.String), so the records
// of one conversation can be picked out. Put Logger inside Recover to log
// panics as failed events.
func Logger(l *slog.Logger) router.Middleware {
	return router.EventMiddleware(func(ctx context.Context, s *scope.Scope, conn scope.Conn, start router.Start) (scope.HandlerFunc, error) {
		log := l
		if log == nil {
			log = slog.Default()
		}
		sc := slog.String("scope", s.String()) // made once: Scope.String builds a string
		next, err := start(conn)
		if err != nil {
			log.LogAttrs(ctx, slog.LevelError, "scope refused", sc, slog.Any("err", err))
			return nil, err
		}
		if log.Enabled(ctx, slog.LevelInfo) {
			attrs := []slog.Attr{sc,
				slog.String("protocol", s.Type),
				slog.String("key", s.Key),
				slog.String("user", s.User.ID),
			}
			if s.Path != "" {
				attrs = append(attrs, slog.String("path", s.Path))
			}
			if s.Channel != "" {
				attrs = append(attrs, slog.String("channel", s.Channel))
			}
			log.LogAttrs(ctx, slog.LevelInfo, "scope started", attrs...)
		}
		begin := time.Now()
		return func(ctx context.Context, ev event.Event) error {
			t := time.Now()
			err := next(ctx, ev)
			d := time.Since(t)
			if err != nil {
				log.LogAttrs(ctx, slog.LevelError, "event failed", sc,
					slog.String("event", ev.Type()), slog.Duration("duration", d), slog.Any("err", err))
			}
			if f, ok := ev.(scope.Final); ok {
				log.LogAttrs(ctx, slog.LevelInfo, "scope ended", sc,
					slog.String("reason", string(f.EndReason())), slog.Duration("lifetime", time.Since(begin)))
				return err
			}
			if err == nil && log.Enabled(ctx, slog.LevelDebug) {
				log.LogAttrs(ctx, slog.LevelDebug, "event", sc,
					slog.String("event", ev.Type()), slog.Duration("duration", d))
			}
			return err
		}, nil
	})
}
