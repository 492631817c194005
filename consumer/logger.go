package consumer

import (
	"log/slog"

	"github.com/switchboard-bots/switchboard/scope"
)

type loggerKey struct{}

// WithLogger returns middleware that makes l the logger of every consumer
// below it: Base.Logger returns it, and the consumer logs through it what
// goes wrong outside any handler (a layer message that could not reach its
// scope, a layer receive being retried). Without it, consumers log to
// slog.Default(). Its type converts to router.Middleware.
func WithLogger(l *slog.Logger) func(scope.Application) scope.Application {
	if l == nil {
		panic("consumer: WithLogger: nil logger")
	}
	return scopeValue(loggerKey{}, l)
}

// LoggerOf returns the logger given to the application of s by
// WithLogger, or slog.Default().
func LoggerOf(s *scope.Scope) *slog.Logger {
	if l, ok := s.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Logger returns the instance's logger (see WithLogger), with the scope
// as its "scope" attribute, for handlers to log with.
func (b *Base) Logger() *slog.Logger {
	return LoggerOf(b.scope).With("scope", b.scope.String())
}
