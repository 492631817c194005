package router

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/scope"
)

// PathRouter serves each scope with the application of the first route
// whose pattern matches the scope's RoutePath, like Channels' URLRouter.
//
// A pattern is a "/"-separated list of segments:
//
//	chat/lobby/        literal segments, matched exactly
//	chat/{room}/       {name} captures one non-empty segment
//	user/{id:[0-9]+}   {name:regexp} captures a segment the regexp matches whole
//	files/*            a final * matches any rest of the path, even none
//
// A leading "/" is optional and ignored, on patterns and on paths alike:
// "/chat/{room}/" and "chat/{room}/" are the same pattern, and both match
// the paths "/chat/lobby/" and "chat/lobby/". A trailing "/" is not
// ignored: "chat/{room}/" does not match "/chat/lobby".
//
// Routes are tried in the order they were registered and the first match
// wins, as in Channels, so register specific routes before general ones.
// Registering the same pattern twice, even with other capture names,
// panics, since the second could never be reached.
//
// Captured values reach the application as scope parameters
// (Scope.Param). A route ending in "*" is a mount point: its application
// sees the scope with RoutePath set to the rest of the path, starting with
// its "/", so a nested PathRouter matches only what follows the prefix.
// Other routes leave RoutePath as it is.
//
// Register every route before serving scopes; a PathRouter is not safe for
// registration concurrent with use. The zero value is an empty router.
type PathRouter struct {
	t      *pathTable
	mw     []Middleware // of this group, inside the table's
	inline bool         // made by With or Group: shares its parent's table
	used   bool         // this group registered a route
}

type pathTable struct {
	routes []pathRoute
	mw     []Middleware // added by the root's Use: outermost on every route
}

type pathRoute struct {
	*pattern
	app scope.Application
}

// NewPathRouter returns an empty path router.
func NewPathRouter() *PathRouter { return &PathRouter{t: &pathTable{}} }

func (r *PathRouter) table() *pathTable {
	if r.t == nil {
		r.t = &pathTable{}
	}
	return r.t
}

// Handle registers app for the paths pattern matches. The middleware added
// with Use and With so far wraps app.
func (r *PathRouter) Handle(pattern string, app scope.Application) {
	p := parsePattern(pattern)
	route := fmt.Sprintf("pattern %q", pattern)
	if app == nil {
		panic("router: nil application for " + route)
	}
	t := r.table()
	for _, old := range t.routes {
		if old.key == p.key {
			panic(fmt.Sprintf("router: duplicate route: pattern %q matches the same paths as %q", pattern, old.text))
		}
	}
	app = wrap(wrap(app, r.mw, route), t.mw, route)
	t.routes = append(t.routes, pathRoute{pattern: p, app: app})
	r.used = true
}

// Mount registers app for every path under prefix: Mount("/api", app) is
// Handle("/api/*", app). app sees the rest of the path as its RoutePath:
// "/users/7" for the path "/api/users/7", "" for "/api" itself.
func (r *PathRouter) Mount(prefix string, app scope.Application) {
	prefix = strings.TrimRight(prefix, "/")
	if prefix == "" {
		r.Handle("*", app)
		return
	}
	r.Handle(prefix+"/*", app)
}

// Route mounts a new PathRouter under prefix, lets fn register its routes
// and returns it. The middleware of r wraps the new router as a whole.
func (r *PathRouter) Route(prefix string, fn func(r *PathRouter)) *PathRouter {
	sub := NewPathRouter()
	if fn != nil {
		fn(sub)
	}
	r.Mount(prefix, sub)
	return sub
}

// Use adds middleware to the routes registered after it, the first listed
// outermost. On a router from NewPathRouter it must come before any route
// (it panics otherwise, since earlier routes would silently go without
// it) and wraps every route of the router and its groups. On a router from
// With or Group it must come before that group's first route and wraps the
// group's routes only.
//
// Route middleware runs after the match: it sees the scope with the
// route's parameters, and does not run for a scope no route matched. To
// wrap the whole router, wrap it: With(r, mw...).
func (r *PathRouter) Use(mw ...Middleware) {
	checkMiddleware(mw)
	if !r.inline {
		t := r.table()
		if len(t.routes) > 0 {
			panic("router: PathRouter.Use after routes were registered")
		}
		t.mw = append(t.mw, mw...)
		return
	}
	if r.used {
		panic("router: PathRouter.Use after routes were registered in this group")
	}
	r.mw = append(r.mw, mw...)
}

// With returns a group of r with mw added: routes registered on the group
// go into r's table, wrapped in r's middleware and then mw.
//
//	r.With(middleware.AllowUsers("42")).Handle("/admin/", admin)
func (r *PathRouter) With(mw ...Middleware) *PathRouter {
	checkMiddleware(mw)
	return &PathRouter{t: r.table(), mw: append(r.mw[:len(r.mw):len(r.mw)], mw...), inline: true}
}

// Group calls fn with a group of r, whose Use adds middleware for the
// routes fn registers only, and returns the group.
func (r *PathRouter) Group(fn func(r *PathRouter)) *PathRouter {
	g := r.With()
	if fn != nil {
		fn(g)
	}
	return g
}

// NewInstance serves s with the application of the first matching route.
// When none matches it returns an error wrapping ErrNoRoute that names the
// path.
func (r *PathRouter) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	whole := s.RoutePath()
	path := strings.TrimPrefix(whole, "/")
	var routes []pathRoute
	if r.t != nil {
		routes = r.t.routes
	}
	var buf [maxInline]string
	for i := range routes {
		rt := &routes[i]
		caps, rest, ok := rt.match(path, whole, buf[:0])
		if !ok {
			continue
		}
		for k, v := range caps {
			s = s.WithParam(rt.names[k], v)
		}
		if rt.wild {
			s = s.WithRoutePath(rest)
		}
		return rt.app.NewInstance(ctx, s, conn)
	}
	return nil, noPathRoute(s, whole)
}

func noPathRoute(s *scope.Scope, rest string) error {
	what := "path"
	if s.Type != "" {
		what = s.Type + " path"
	}
	if rest != s.Path {
		return fmt.Errorf("%w for %s %q (unmatched %q)", ErrNoRoute, what, s.Path, rest)
	}
	return fmt.Errorf("%w for %s %q", ErrNoRoute, what, s.Path)
}

func checkMiddleware(mw []Middleware) {
	for i, m := range mw {
		if m == nil {
			panic(fmt.Sprintf("router: middleware %d is nil", i))
		}
	}
}
