package router

import (
	"fmt"

	"github.com/switchboard-bots/switchboard/event"

	"github.com/switchboard-bots/switchboard/scope"
)

// ErrNoRoute is wrapped by the error a router returns when nothing matched
// the scope or the event. The error names what did not match. It is
// event.ErrNoRoute, so that adapters recognise a refusal without importing
// this package.
var ErrNoRoute = event.ErrNoRoute

// Routes maps names (protocols, channel names) to the applications that
// serve them.
type Routes map[string]scope.Application

// Middleware wraps an application in another. It is called once, when the
// route is set up, and its result serves every scope of that route.
type Middleware func(scope.Application) scope.Application

// Chain combines middleware into one. The first listed is the outermost: it
// sees a scope or an event first and the result last.
func Chain(mw ...Middleware) Middleware {
	for i, m := range mw {
		if m == nil {
			panic(fmt.Sprintf("router: Chain: middleware %d is nil", i))
		}
	}
	mw = append([]Middleware(nil), mw...)
	return func(app scope.Application) scope.Application {
		return wrap(app, mw, "")
	}
}

// With returns app wrapped in mw, the first listed outermost.
func With(app scope.Application, mw ...Middleware) scope.Application {
	return Chain(mw...)(app)
}

// wrap applies mw to app, innermost last, naming route in panics.
func wrap(app scope.Application, mw []Middleware, route string) scope.Application {
	if app == nil {
		panic("router: nil application" + forRoute(route))
	}
	for i := len(mw) - 1; i >= 0; i-- {
		app = mw[i](app)
		if app == nil {
			panic(fmt.Sprintf("router: middleware %d returned a nil application%s", i, forRoute(route)))
		}
	}
	return app
}

func forRoute(route string) string {
	if route == "" {
		return ""
	}
	return " for " + route
}
