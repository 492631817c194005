package router_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestParseCommand(t *testing.T) {
	for _, tt := range []struct {
		text string
		want router.Command
		ok   bool
	}{
		{"/start", router.Command{Name: "start"}, true},
		{"/help me please ", router.Command{Name: "help", Args: "me please"}, true},
		{"/help\n  line one\nline two", router.Command{Name: "help", Args: "line one\nline two"}, true},
		{"/start@my_bot", router.Command{Name: "start", Mention: "my_bot"}, true},
		{"/start@my_bot deep-link", router.Command{Name: "start", Mention: "my_bot", Args: "deep-link"}, true},
		{"/Start", router.Command{Name: "Start"}, true},
		{"/start\tx", router.Command{Name: "start", Args: "x"}, true},
		{"/start\u00a0x", router.Command{Name: "start", Args: "x"}, true},
		{"hello /start", router.Command{}, false},
		{" /start", router.Command{}, false},
		{"/", router.Command{}, false},
		{"/ start", router.Command{}, false},
		{"/@my_bot", router.Command{}, false},
		{"", router.Command{}, false},
	} {
		got, ok := router.ParseCommand(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

// counting wraps an application and counts the instances it makes.
type counting struct {
	scope.Application
	mu sync.Mutex
	n  int
}

func (c *counting) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Application.NewInstance(ctx, s, conn)
}

func (c *counting) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestCommandRouting(t *testing.T) {
	j := &journal{}
	start := &counting{Application: newApp("start", j)}
	help := &counting{Application: newApp("help", j)}
	other := &counting{Application: newApp("other", j)}
	r := router.NewCommandRouter()
	r.Handle("start", start)
	r.Handle("/HELP", help)
	r.Fallback(other)

	ctx := context.Background()
	s := &scope.Scope{Type: "telegram", Key: "chat:1", Bot: scope.User{Username: "My_Bot"}}
	inst, err := r.NewInstance(ctx, s, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	if n := start.count() + help.count() + other.count(); n != 0 {
		t.Fatalf("%d sub-instances made before the first event, want none", n)
	}
	for _, ev := range []event.Event{
		message{"hello"},
		message{"/start"},
		message{"/help me  please"},
		message{"/Start@my_bot again"},
		message{"/start@other_bot"},
		message{"/unknown x y"},
		reaction{"👍"},
		message{"/help"},
		disconnect{scope.ReasonIdle},
	} {
		if err := inst.Handle(ctx, ev); err != nil {
			t.Fatalf("%v: %v", ev, err)
		}
	}
	equal(t, j.take(), []string{
		`other start {} rest=""`,
		`other chat.message "hello"`,
		`start start {command=start} rest=""`,
		`start chat.message "/start" cmd=start args=""`,
		`help start {command=help} rest=""`,
		`help chat.message "/help me  please" cmd=help args="me  please"`,
		`start chat.message "/Start@my_bot again" cmd=start args="again"`,
		`other chat.message "/start@other_bot"`,
		`other chat.message "/unknown x y" cmd=unknown args="x y"`,
		`other chat.reaction`,
		`help chat.message "/help" cmd=help args=""`,
		// The final event reaches every sub-instance, in the order made.
		`other chat.disconnect reason=idle`,
		`start chat.disconnect reason=idle`,
		`help chat.disconnect reason=idle`,
	})
	if start.count() != 1 || help.count() != 1 || other.count() != 1 {
		t.Fatalf("instances made: start %d, help %d, fallback %d; want 1 each", start.count(), help.count(), other.count())
	}
	if s.Param("command") != "" {
		t.Fatal("the router changed the scope it was given")
	}
}

func TestCommandNoFallback(t *testing.T) {
	j := &journal{}
	r := router.NewCommandRouter()
	r.Handle("start", newApp("start", j))
	ctx := context.Background()
	inst, err := r.NewInstance(ctx, &scope.Scope{Type: "telegram"}, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ev   event.Event
		want string
	}{
		{message{"/stop now"}, `router: no route for command "/stop"`},
		{message{"/STOP"}, `router: no route for command "/stop"`},
		{message{"hi"}, `router: no route for event "chat.message" (not a command)`},
		{reaction{}, `router: no route for event "chat.reaction"`},
	} {
		err := inst.Handle(ctx, tt.ev)
		if !errors.Is(err, router.ErrNoRoute) || err.Error() != tt.want {
			t.Errorf("%v: err = %v, want %q wrapping ErrNoRoute", tt.ev, err, tt.want)
		}
	}
	// Nothing was made, so the final event has nowhere to go.
	if err := inst.Handle(ctx, disconnect{scope.ReasonClosed}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), nil)
}

func TestCommandFinalReachesAll(t *testing.T) {
	j := &journal{}
	boom := errors.New("boom")
	failing := newApp("failing", j)
	failing.handle = func(_ context.Context, _ *scope.Scope, _ scope.Conn, ev event.Event) error {
		if _, ok := ev.(scope.Final); ok {
			return boom
		}
		return nil
	}
	panicking := newApp("panicking", j)
	panicking.handle = func(_ context.Context, _ *scope.Scope, _ scope.Conn, ev event.Event) error {
		if _, ok := ev.(scope.Final); ok {
			panic("cleanup bug")
		}
		return nil
	}
	r := router.NewCommandRouter()
	r.Handle("a", failing)
	r.Handle("b", panicking)
	r.Fallback(newApp("rest", j))

	ctx := context.Background()
	inst, _ := r.NewInstance(ctx, &scope.Scope{}, &conn{})
	for _, text := range []string{"/b", "/a", "x"} {
		if err := inst.Handle(ctx, message{text}); err != nil {
			t.Fatal(err)
		}
	}
	j.take()
	err := inst.Handle(ctx, disconnect{scope.ReasonError})
	equal(t, j.take(), []string{
		`panicking chat.disconnect reason=error`,
		`failing chat.disconnect reason=error`,
		`rest chat.disconnect reason=error`,
	})
	var pe *scope.PanicError
	if !errors.Is(err, boom) || !errors.As(err, &pe) || pe.Value != "cleanup bug" || len(pe.Stack) == 0 {
		t.Fatalf("err = %v, want both failures", err)
	}
	for _, w := range []string{`router: command "/a": boom`, `router: command "/b": panic: cleanup bug`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err %q does not mention %q", err, w)
		}
	}
}

func TestCommandStartError(t *testing.T) {
	boom := errors.New("boom")
	r := router.NewCommandRouter()
	r.Handle("a", &app{newErr: boom})
	r.Handle("nil", scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return nil, nil
	}))
	r.Fallback(&app{newErr: boom})
	ctx := context.Background()
	inst, _ := r.NewInstance(ctx, &scope.Scope{}, &conn{})
	for _, tt := range []struct{ text, want string }{
		{"/a", `router: command "/a": boom`},
		{"/nil", `router: command "/nil": application returned no instance`},
		{"hi", `router: command fallback: boom`},
	} {
		err := inst.Handle(ctx, message{tt.text})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: err = %v, want %q", tt.text, err, tt.want)
		}
	}
	if err := inst.Handle(ctx, message{"/a"}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want it to wrap the application's error", err)
	}
}

func TestCommandPostComesBack(t *testing.T) {
	j := &journal{}
	// The watch command works on another goroutine and posts its result.
	var wg sync.WaitGroup
	watch := newApp("watch", j)
	watch.handle = func(ctx context.Context, _ *scope.Scope, c scope.Conn, ev event.Event) error {
		if m, ok := ev.(message); ok {
			wg.Go(func() {
				if err := c.Post(context.Background(), reply{"done: " + m.text}); err != nil {
					t.Error(err)
				}
			})
		}
		return c.Send(ctx, reply{"working"})
	}
	r := router.NewCommandRouter()
	r.Handle("watch", watch)
	r.Fallback(newApp("rest", j))

	ctx := context.Background()
	c := &conn{postCh: make(chan event.Event, 1)}
	inst, _ := r.NewInstance(ctx, &scope.Scope{}, c)
	if err := inst.Handle(ctx, message{"/watch x"}); err != nil {
		t.Fatal(err)
	}
	back := <-c.postCh
	wg.Wait()
	if back.Type() != "chat.send" {
		t.Errorf("posted event's type is %q, want the posted event's own", back.Type())
	}
	if err := inst.Handle(ctx, back); err != nil {
		t.Fatal(err)
	}
	if err := inst.Handle(ctx, reply{"not posted by anyone"}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{
		`watch start {command=watch} rest=""`,
		`watch chat.message "/watch x" cmd=watch args="x"`,
		`watch chat.send`,
		`rest start {} rest=""`,
		`rest chat.send`,
	})
	if len(c.sent) != 2 {
		t.Errorf("sent %v, want the two replies of the watch instance", c.sent)
	}

	// An event posted to the instance of an earlier scope that failed is
	// routed like any other event.
	next, _ := r.NewInstance(ctx, &scope.Scope{}, c)
	if err := next.Handle(ctx, back); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{`rest start {} rest=""`, `rest chat.send`})
}

func TestCommandMiddleware(t *testing.T) {
	j := &journal{}
	forbidden := errors.New("forbidden")
	deny := func(next scope.Application) scope.Application {
		return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, c scope.Conn) (scope.Instance, error) {
			if s.User.ID != "admin" {
				return nil, forbidden
			}
			return next.NewInstance(ctx, s, c)
		})
	}
	r := router.NewCommandRouter()
	r.Use(tag("all", j))
	r.Handle("start", newApp("start", j))
	admin := r.With(deny, tag("admin", j))
	admin.Handle("ban", newApp("ban", j))
	r.Fallback(newApp("rest", j))

	ctx := context.Background()
	for _, user := range []string{"admin", "mallory"} {
		inst, _ := r.NewInstance(ctx, &scope.Scope{User: scope.User{ID: user}}, &conn{})
		for _, text := range []string{"/start", "hi", "/ban bob"} {
			err := inst.Handle(ctx, message{text})
			if text == "/ban bob" && user == "mallory" {
				if !errors.Is(err, forbidden) {
					t.Fatalf("%s %s: err = %v, want forbidden", user, text, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", user, text, err)
			}
		}
	}
	equal(t, j.take(), []string{
		"mw all {command=start}", `start start {command=start} rest=""`,
		"mw all chat.message", `start chat.message "/start" cmd=start args=""`,
		"mw all {}", `rest start {} rest=""`,
		"mw all chat.message", `rest chat.message "hi"`,
		"mw all {command=ban}", "mw admin {command=ban}", `ban start {command=ban} rest=""`,
		"mw all chat.message", "mw admin chat.message", `ban chat.message "/ban bob" cmd=ban args="bob"`,
		// mallory
		"mw all {command=start}", `start start {command=start} rest=""`,
		"mw all chat.message", `start chat.message "/start" cmd=start args=""`,
		"mw all {}", `rest start {} rest=""`,
		"mw all chat.message", `rest chat.message "hi"`,
		"mw all {command=ban}",
	})
}

func TestCommandPanics(t *testing.T) {
	a := newApp("a", nil)
	for _, name := range []string{"", "/", "a b", "a@bot", "a/b"} {
		mustPanic(t, func() { router.NewCommandRouter().Handle(name, a) }, fmt.Sprintf("command %q is not a command name", name))
	}
	r := router.NewCommandRouter()
	r.Handle("start", a)
	mustPanic(t, func() { r.Handle("/Start", a) }, `duplicate route: command "/start"`)
	mustPanic(t, func() { r.Handle("help", nil) }, `nil application for command "/help"`)
	mustPanic(t, func() { r.Fallback(nil) }, "nil application for the command fallback")
	r.Fallback(a)
	mustPanic(t, func() { r.Fallback(a) }, "duplicate command fallback")
	mustPanic(t, func() { r.Use(tag("x", &journal{})) }, "Use after commands were registered")
	g := r.With()
	g.Handle("g", a)
	mustPanic(t, func() { g.Use(tag("x", &journal{})) }, "Use after commands were registered in this group")
	mustPanic(t, func() { r.With(nil) }, "middleware 0 is nil")
}

func TestCommandZeroValue(t *testing.T) {
	var r router.CommandRouter
	ctx := context.Background()
	inst, _ := r.NewInstance(ctx, &scope.Scope{}, &conn{})
	if err := inst.Handle(ctx, message{"/start"}); !errors.Is(err, router.ErrNoRoute) {
		t.Fatalf("empty router: err = %v, want ErrNoRoute", err)
	}
	j := &journal{}
	r.Handle("start", newApp("start", j))
	inst, _ = r.NewInstance(ctx, &scope.Scope{}, &conn{})
	if err := inst.Handle(ctx, message{"/start"}); err != nil {
		t.Fatal(err)
	}
	equal(t, j.take(), []string{`start start {command=start} rest=""`, `start chat.message "/start" cmd=start args=""`})
}
