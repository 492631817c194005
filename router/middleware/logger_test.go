package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// capture is a slog.Handler that keeps records as "LEVEL msg k=v ...",
// with durations replaced by "<d>" when positive.
type capture struct {
	level slog.Level
	mu    sync.Mutex
	lines []string
}

func (c *capture) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler           { return c }
func (c *capture) WithGroup(string) slog.Handler                { return c }

func (c *capture) Handle(_ context.Context, r slog.Record) error {
	var attrs []string
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.String()
		if a.Value.Kind() == slog.KindDuration && a.Value.Duration() > 0 {
			v = "<d>"
		}
		attrs = append(attrs, a.Key+"="+v)
		return true
	})
	sort.Strings(attrs)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, fmt.Sprintf("%s %s %s", r.Level, r.Message, strings.Join(attrs, " ")))
	return nil
}

func (c *capture) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lines
	c.lines = nil
	return l
}

type oops struct{}

func (oops) Type() string { return "test.oops" }

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestLogger(t *testing.T) {
	h := &capture{level: slog.LevelDebug}
	boom := errors.New("boom")
	a := &app{handle: func(_ context.Context, ev event.Event) error {
		time.Sleep(time.Millisecond) // a duration the clock can see
		if _, ok := ev.(ping); ok {
			return nil
		}
		return boom
	}}
	ctx := context.Background()
	s := &scope.Scope{Type: "websocket", Adapter: "ws", Key: "k1", Path: "/chat/", User: scope.User{ID: "42"}}
	inst, err := Logger(slog.New(h))(a).NewInstance(ctx, s, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	_ = inst.Handle(ctx, ping{})
	if err := inst.Handle(ctx, oops{}); err != boom {
		t.Fatalf("err = %v, want the instance's own", err)
	}
	err = inst.Handle(ctx, disconnect{scope.ReasonClosed})
	if err != boom {
		t.Fatalf("err = %v, want the instance's own", err)
	}
	equal(t, h.take(), []string{
		"INFO scope started key=k1 path=/chat/ protocol=websocket scope=websocket/ws:k1 user=42",
		"DEBUG event duration=<d> event=test.ping scope=websocket/ws:k1",
		"ERROR event failed duration=<d> err=boom event=test.oops scope=websocket/ws:k1",
		"ERROR event failed duration=<d> err=boom event=test.disconnect scope=websocket/ws:k1",
		"INFO scope ended lifetime=<d> reason=closed scope=websocket/ws:k1",
	})

	_, err = Logger(slog.New(h))(&app{newErr: boom}).NewInstance(ctx, &scope.Scope{Type: "channel", Key: "k2", Channel: "mail"}, &conn{})
	if err != boom {
		t.Fatalf("err = %v, want the application's own", err)
	}
	equal(t, h.take(), []string{"ERROR scope refused err=boom scope=channel:k2"})
}

func TestLoggerQuiet(t *testing.T) {
	h := &capture{level: slog.LevelInfo}
	ctx := context.Background()
	inst, err := Logger(slog.New(h))(quiet).NewInstance(ctx, &scope.Scope{Type: "channel", Key: "k", Channel: "mail"}, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, h.take(), []string{"INFO scope started channel=mail key=k protocol=channel scope=channel:k user="})
	var ev event.Event = ping{}
	if n := testing.AllocsPerRun(100, func() { _ = inst.Handle(ctx, ev) }); n != 0 {
		t.Errorf("%v allocations per event with Debug off, want 0", n)
	}
	equal(t, h.take(), nil)
}

func TestLoggerDefault(t *testing.T) {
	h := &capture{level: slog.LevelInfo}
	old := slog.Default()
	slog.SetDefault(slog.New(h))
	defer slog.SetDefault(old)
	if _, err := Logger(nil)(&app{}).NewInstance(context.Background(), &scope.Scope{Type: "t", Key: "k"}, &conn{}); err != nil {
		t.Fatal(err)
	}
	if got := h.take(); len(got) != 1 || !strings.Contains(got[0], "scope started") {
		t.Fatalf("default logger got %q", got)
	}
}
