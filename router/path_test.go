package router_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestPathMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          string // the journal line of the route's start, "" for no match
	}{
		{"/chat/{room}/", "/chat/lobby/", `leaf start {room=lobby} rest="/chat/lobby/"`},
		{"chat/{room}/", "/chat/lobby/", `leaf start {room=lobby} rest="/chat/lobby/"`},
		{"/chat/{room}/", "chat/lobby/", `leaf start {room=lobby} rest="chat/lobby/"`},
		{"/chat/{room}/", "/chat/lobby", ""},
		{"/chat/{room}", "/chat/lobby/", ""},
		{"/chat/{room}", "/chat/", ""},
		{"/chat/{room}", "/chat", ""},
		{"/chat/{room}", "/chat/a/b", ""},
		{"/chat/lobby", "/chat/Lobby", ""},
		{"/a/{x}/{y}", "/a/1/2", `leaf start {x=1 y=2} rest="/a/1/2"`},
		{"/user/{id:[0-9]+}", "/user/42", `leaf start {id=42} rest="/user/42"`},
		{"/user/{id:[0-9]+}", "/user/42x", ""},
		{"/user/{id:[0-9]+}", "/user/x42", ""},
		{"/user/{id:[0-9]+}", "/user/", ""},
		{"/v/{n:[0-9]{2,3}}", "/v/123", `leaf start {n=123} rest="/v/123"`},
		{"/v/{n:[0-9]{2,3}}", "/v/1234", ""},
		{"/v/{n:a|b}", "/v/b", `leaf start {n=b} rest="/v/b"`},
		{"/v/{n:a|b}", "/v/ab", ""},
		{"/opt/{n:x?}", "/opt/", `leaf start {n=} rest="/opt/"`},
		{"/", "/", `leaf start {} rest="/"`},
		{"/", "", `leaf start {} rest=""`},
		{"", "/", `leaf start {} rest="/"`},
		{"/", "/a", ""},
		{"/files/*", "/files/a/b", `leaf start {} rest="/a/b"`},
		{"/files/*", "/files/", `leaf start {} rest="/"`},
		{"/files/*", "/files", `leaf start {} rest=""`},
		{"/files/*", "/filesx", ""},
		{"/files/*", "/file", ""},
		{"*", "/anything/at/all", `leaf start {} rest="/anything/at/all"`},
		{"/*", "", `leaf start {} rest=""`},
		{"/{a}/*", "/x/y/z", `leaf start {a=x} rest="/y/z"`},
		{"/{a}/*", "/x", `leaf start {a=x} rest=""`},
		{"/{a}/*", "/", ""},
		{"/a//b", "/a//b", `leaf start {} rest="/a//b"`},
		{"/a//b", "/a/b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			j := &journal{}
			r := router.NewPathRouter()
			r.Handle(tt.pattern, newApp("leaf", j))
			_, err := r.NewInstance(context.Background(), &scope.Scope{Type: "websocket", Path: tt.path}, &conn{})
			if tt.want == "" {
				if !errors.Is(err, router.ErrNoRoute) {
					t.Fatalf("err = %v, want ErrNoRoute; journal %q", err, j.take())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, j.take(), []string{tt.want})
		})
	}
}

func TestPathNoRouteError(t *testing.T) {
	r := router.NewPathRouter()
	r.Handle("/chat/{room}/", newApp("chat", nil))
	r.Route("/api", func(r *router.PathRouter) {
		r.Handle("/users/", newApp("users", nil))
	})
	for _, tt := range []struct{ typ, path, want string }{
		{"websocket", "/x/", `router: no route for websocket path "/x/"`},
		{"", "/x/", `router: no route for path "/x/"`},
		{"http", "/api/nope", `router: no route for http path "/api/nope" (unmatched "/nope")`},
	} {
		_, err := r.NewInstance(context.Background(), &scope.Scope{Type: tt.typ, Path: tt.path}, &conn{})
		if !errors.Is(err, router.ErrNoRoute) || err.Error() != tt.want {
			t.Errorf("path %q: err = %v, want %q wrapping ErrNoRoute", tt.path, err, tt.want)
		}
	}
}

func TestPathNesting(t *testing.T) {
	j := &journal{}
	r := router.NewPathRouter()
	r.Route("/api", func(api *router.PathRouter) {
		api.Handle("/users/{id}", newApp("user", j))
		api.Route("/rooms/{id}", func(room *router.PathRouter) {
			room.Handle("/", newApp("room", j))
			room.Handle("/messages/{id}", newApp("message", j))
		})
	})
	chat := router.NewPathRouter()
	chat.Handle("{thread}/", newApp("thread", j))
	r.Mount("/chat/{room}/", chat)

	for _, tt := range []struct{ path, want string }{
		{"/api/users/7", `user start {id=7} rest="/users/7"`},
		{"/api/rooms/3", `room start {id=3} rest=""`},
		{"/api/rooms/3/", `room start {id=3} rest="/"`},
		// The innermost capture of a name wins.
		{"/api/rooms/3/messages/9", `message start {id=9} rest="/messages/9"`},
		{"/chat/lobby/general/", `thread start {room=lobby thread=general} rest="/general/"`},
	} {
		if _, err := r.NewInstance(context.Background(), &scope.Scope{Path: tt.path}, &conn{}); err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		equal(t, j.take(), []string{tt.want})
	}
	s := &scope.Scope{Path: "/api/rooms/3/messages/9"}
	var seen *scope.Scope
	probe := router.NewPathRouter()
	probe.Mount("/api/rooms/{room}", scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		seen = s
		return &instance{a: &app{}}, nil
	}))
	if _, err := probe.NewInstance(context.Background(), s, &conn{}); err != nil {
		t.Fatal(err)
	}
	if seen.Path != s.Path || s.RoutePath() != s.Path || s.Param("room") != "" {
		t.Errorf("the router changed the scope it was given: Path %q RoutePath %q room %q",
			s.Path, s.RoutePath(), s.Param("room"))
	}
	if seen.Param("room") != "3" || seen.RoutePath() != "/messages/9" {
		t.Errorf("mounted app saw room %q RoutePath %q", seen.Param("room"), seen.RoutePath())
	}
}

func TestPathFirstMatchWins(t *testing.T) {
	j := &journal{}
	r := router.NewPathRouter()
	r.Handle("/chat/{room}/", newApp("room", j))
	r.Handle("/chat/admin/", newApp("admin", j))
	if _, err := r.NewInstance(context.Background(), &scope.Scope{Path: "/chat/admin/"}, &conn{}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{`room start {room=admin} rest="/chat/admin/"`})

	r = router.NewPathRouter()
	r.Handle("/chat/admin/", newApp("admin", j))
	r.Handle("/chat/{room}/", newApp("room", j))
	for _, p := range []string{"/chat/admin/", "/chat/lobby/"} {
		if _, err := r.NewInstance(context.Background(), &scope.Scope{Path: p}, &conn{}); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, j.take(), []string{`admin start {} rest="/chat/admin/"`, `room start {room=lobby} rest="/chat/lobby/"`})
}

func TestPathReturnsInnerInstance(t *testing.T) {
	want := &instance{a: &app{}}
	r := router.NewPathRouter()
	r.Handle("/a/{x}", scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return want, nil
	}))
	got, err := r.NewInstance(context.Background(), &scope.Scope{Path: "/a/1"}, &conn{})
	if err != nil || got != want {
		t.Fatalf("got %v, %v; want the route's own instance", got, err)
	}
	boom := errors.New("boom")
	r.Handle("/b", &app{newErr: boom})
	if _, err := r.NewInstance(context.Background(), &scope.Scope{Path: "/b"}, &conn{}); err != boom {
		t.Fatalf("err = %v, want the route's own error", err)
	}
}

func TestPathPanics(t *testing.T) {
	a := newApp("a", nil)
	for _, tt := range []struct {
		pattern string
		want    string
	}{
		{"/a/{x", "unclosed {"},
		{"/a/x{y}", "a capture must be a whole segment"},
		{"/a/{y}x", "a capture must be a whole segment"},
		{"/a/x}", "a capture must be a whole segment"},
		{"/a/{}", "has no name"},
		{"/a/{:[0-9]}", "has no name"},
		{"/a/{x:}", "empty regexp"},
		{"/a/{x:(}", "capture {x}"},
		{"/a/{x}/{x}", "capture {x} appears twice"},
		{"/a/*/b", "* must be the last segment"},
		{"/a/*/", "* must be the last segment"},
		{"/a/b*", "* must be a whole segment"},
	} {
		mustPanic(t, func() { router.NewPathRouter().Handle(tt.pattern, a) }, `router: pattern "`+tt.pattern+`"`, tt.want)
	}

	r := router.NewPathRouter()
	r.Handle("/a/{x}/", a)
	mustPanic(t, func() { r.Handle("a/{y}/", a) }, `duplicate route`, `"a/{y}/"`, `"/a/{x}/"`)
	r.Handle("/a/{x:[0-9]+}/", a) // matches fewer paths: not a duplicate
	r.Mount("/files", a)
	mustPanic(t, func() { r.Handle("/files/*", a) }, `duplicate route`, `"/files/*"`)
	mustPanic(t, func() { r.Handle("/b", nil) }, `nil application for pattern "/b"`)
	mustPanic(t, func() { r.Use(tag("x", &journal{})) }, "Use after routes")
	mustPanic(t, func() { r.With(nil) }, "middleware 0 is nil")
	mustPanic(t, func() {
		r.With(func(scope.Application) scope.Application { return nil }).Handle("/c", a)
	}, `middleware 0 returned a nil application for pattern "/c"`)
	g := r.With()
	g.Handle("/d", a)
	mustPanic(t, func() { g.Use(tag("x", &journal{})) }, "Use after routes were registered in this group")
}

func TestPathMiddleware(t *testing.T) {
	j := &journal{}
	r := router.NewPathRouter()
	r.Use(tag("outer", j), tag("inner", j))
	r.Handle("/plain/{p}", newApp("plain", j))
	r.With(tag("admin", j)).Handle("/admin/{a}", newApp("admin", j))
	r.Group(func(g *router.PathRouter) {
		g.Use(tag("group", j))
		g.Handle("/g/{g}", newApp("grouped", j))
	})
	r.Handle("/after", newApp("after", j))

	ctx := context.Background()
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/plain/1", []string{"mw outer {p=1}", "mw inner {p=1}", `plain start {p=1} rest="/plain/1"`,
			"mw outer chat.reaction", "mw inner chat.reaction", "plain chat.reaction"}},
		{"/admin/2", []string{"mw outer {a=2}", "mw inner {a=2}", "mw admin {a=2}", `admin start {a=2} rest="/admin/2"`,
			"mw outer chat.reaction", "mw inner chat.reaction", "mw admin chat.reaction", "admin chat.reaction"}},
		{"/g/3", []string{"mw outer {g=3}", "mw inner {g=3}", "mw group {g=3}", `grouped start {g=3} rest="/g/3"`,
			"mw outer chat.reaction", "mw inner chat.reaction", "mw group chat.reaction", "grouped chat.reaction"}},
		{"/after", []string{"mw outer {}", "mw inner {}", `after start {} rest="/after"`,
			"mw outer chat.reaction", "mw inner chat.reaction", "after chat.reaction"}},
	} {
		inst, err := r.NewInstance(ctx, &scope.Scope{Path: tt.path}, &conn{})
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.Handle(ctx, reaction{}); err != nil {
			t.Fatal(err)
		}
		equal(t, j.take(), tt.want)
	}
	// Route middleware does not run when nothing matched.
	if _, err := r.NewInstance(ctx, &scope.Scope{Path: "/nope"}, &conn{}); !errors.Is(err, router.ErrNoRoute) {
		t.Fatalf("err = %v", err)
	}
	equal(t, j.take(), nil)
}

func TestPathAllocs(t *testing.T) {
	inst := &instance{a: &app{}}
	leaf := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return inst, nil
	})
	r := router.NewPathRouter()
	for _, p := range []string{"/a/", "/b/{x}", "/c/{x}/{y}", "/d/{n:[0-9]+}", "/e/{x}/*", "/f/*", "/static/path/here"} {
		r.Handle(p, leaf)
	}
	ctx, c := context.Background(), &conn{}
	for _, tt := range []struct {
		path string
		max  float64
	}{
		{"/static/path/here", 0},
		{"/b/1", 2},   // the derived scope and its parameter list
		{"/c/1/2", 4}, // twice that: one WithParam per capture
		{"/d/42", 2},
		{"/f/rest", 1}, // the derived scope
		{"/e/1/rest", 3},
	} {
		s := &scope.Scope{Path: tt.path}
		got := testing.AllocsPerRun(100, func() {
			if _, err := r.NewInstance(ctx, s, c); err != nil {
				t.Fatal(err)
			}
		})
		if got > tt.max {
			t.Errorf("%s: %v allocations per NewInstance, want at most %v", tt.path, got, tt.max)
		}
	}
}

func TestPathZeroValue(t *testing.T) {
	var r router.PathRouter
	ctx := context.Background()
	if _, err := r.NewInstance(ctx, &scope.Scope{Path: "/"}, &conn{}); !errors.Is(err, router.ErrNoRoute) {
		t.Fatalf("empty router: err = %v, want ErrNoRoute", err)
	}
	j := &journal{}
	r.With(tag("g", j)).Handle("/{x}", newApp("x", j))
	if _, err := r.NewInstance(ctx, &scope.Scope{Path: "/1"}, &conn{}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{"mw g {x=1}", `x start {x=1} rest="/1"`})
}
