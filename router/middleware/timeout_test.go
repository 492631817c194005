package middleware_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/router/middleware"
	"github.com/switchboard-bots/switchboard/scope"
)

type tick struct{}

func (tick) Type() string { return "test.tick" }

type bye struct{}

func (bye) Type() string            { return "test.bye" }
func (bye) EndReason() scope.Reason { return scope.ReasonError }

func TestTimeoutCutsLooseAHandlerThatIgnoresItsContext(t *testing.T) {
	release := make(chan struct{})
	var finals int
	var out logtest.Buffer
	app := middleware.Timeout(20*time.Millisecond, slog.New(slog.NewTextHandler(&out, nil)))(
		scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
			return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
				if _, ok := ev.(scope.Final); ok {
					finals++
					return nil
				}
				<-release // deaf to its context
				return nil
			}), nil
		}))
	inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: "telegram", Adapter: "tg", Key: "42"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = inst.Handle(context.Background(), tick{})
	if !errors.Is(err, middleware.ErrHandlerTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrHandlerTimeout", err)
	}
	if s := out.String(); !strings.Contains(s, "handler timed out") || !strings.Contains(s, "adapter=tg key=42 event=test.tick") {
		t.Fatalf("log = %s", s)
	}
	if err := inst.Handle(context.Background(), bye{}); err != nil || finals != 0 {
		t.Fatalf("final event handed to an instance still busy: err %v, finals %d", err, finals)
	}
	close(release)
}

func TestTimeoutPassesAHandlerThatReturnsInTime(t *testing.T) {
	app := middleware.Timeout(time.Minute, slog.New(slog.DiscardHandler))(
		scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
			return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
				if _, ok := ctx.Deadline(); !ok {
					return errors.New("no deadline")
				}
				return nil
			}), nil
		}))
	inst, _ := app.NewInstance(context.Background(), &scope.Scope{}, nil)
	if err := inst.Handle(context.Background(), tick{}); err != nil {
		t.Fatal(err)
	}
}
