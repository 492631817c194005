// Package middleware holds the router.Middleware that most bots want
// around their applications: recovering panics, logging scopes and events,
// refusing users, and rate limiting.
//
// Each one wraps an application and the instances it makes, and nothing
// else: it keeps its per-scope state in the instance wrapper, costs no
// goroutine or timer per scope, and does not allocate per event, so a
// stack of them around a router adds nanoseconds to an event, not
// garbage. Middleware that only decides whether a scope may start, such as
// Authorize, returns the inner instance itself and costs nothing per event.
//
// Compose them with router.Chain or router.With, outermost first:
//
//	app := router.With(routes,
//		middleware.Recover,
//		middleware.Logger(logger),
//		middleware.RateLimit(5, 10),
//	)
package middleware
