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
	return func(next scope.Application) scope.Application {
		return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
			log := l
			if log == nil {
				log = slog.Default()
			}
			sc := slog.String("scope", s.String())
			inst, err := next.NewInstance(ctx, s, conn)
			if err != nil {
				log.LogAttrs(ctx, slog.LevelError, "scope refused", sc, slog.Any("err", err))
				return nil, err
			}
			if inst == nil {
				return nil, nil
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
			return &logInstance{next: inst, log: log, scope: sc, start: time.Now()}, nil
		})
	}
}

type logInstance struct {
	next  scope.Instance
	log   *slog.Logger
	scope slog.Attr // made once: Scope.String builds a string
	start time.Time
}

func (li *logInstance) Handle(ctx context.Context, ev event.Event) error {
	t := time.Now()
	err := li.next.Handle(ctx, ev)
	d := time.Since(t)
	if err != nil {
		li.log.LogAttrs(ctx, slog.LevelError, "event failed", li.scope,
			slog.String("event", ev.Type()), slog.Duration("duration", d), slog.Any("err", err))
	}
	if f, ok := ev.(scope.Final); ok {
		li.log.LogAttrs(ctx, slog.LevelInfo, "scope ended", li.scope,
			slog.String("reason", string(f.EndReason())), slog.Duration("lifetime", time.Since(li.start)))
		return err
	}
	if err == nil && li.log.Enabled(ctx, slog.LevelDebug) {
		li.log.LogAttrs(ctx, slog.LevelDebug, "event", li.scope,
			slog.String("event", ev.Type()), slog.Duration("duration", d))
	}
	return err
}
