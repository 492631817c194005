// Package middleware holds the router.Middleware that most bots want
// around their applications: recovering panics, logging scopes and events,
// refusing users, rate limiting, and bounding a handler's time (Timeout,
// which runs each handler on a goroutine of its own so that it can cut a
// stuck one loose).
//
// Each one wraps an application and the instances it makes, and nothing
// else. Those that work per event (Recover, Logger, RateLimit) are each one
// router.EventMiddleware function: per-scope state lives in variables its
// event handler closes over, they cost no goroutine or timer per scope, and
// they do not allocate per event, so a stack of them around a router adds
// nanoseconds to an event, not garbage. Middleware that only decides
// whether a scope may start, such as Authorize, returns the inner instance
// itself and costs nothing per event. Every one passes
// router.HandlesProtocol on to what it wraps.
//
// Compose them with router.Chain or router.With, outermost first:
//
//	app := router.With(routes,
//		middleware.Recover,
//		middleware.Logger(logger),
//		middleware.RateLimit(5, 10),
//	)
package middleware
