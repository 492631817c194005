package ping_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/bots/ping"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A ping waiting for its pong does not delay another connection's.
func TestPingDoesNotDelayOtherScopes(t *testing.T) {
	release := map[string]chan struct{}{"slow": make(chan struct{}), "fast": make(chan struct{})}
	waiting := make(chan string, 2)
	app := ping.NewWithWait(func(ctx context.Context) error {
		// The scope's key tells the instances apart.
		key := keyOf(ctx)
		waiting <- key
		select {
		case <-release[key]:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	slow := consumertest.NewWebSocket(t, withKey(app, "slow"), "/ping/")
	fast := consumertest.NewWebSocket(t, withKey(app, "fast"), "/ping/")
	for _, c := range []*consumertest.WebSocket{slow, fast} {
		if ok, _, _ := c.Connect(); !ok {
			t.Fatal("connection rejected")
		}
	}
	slow.SendText("ping")
	if k := <-waiting; k != "slow" {
		t.Fatalf("waiting %s", k)
	}
	fast.SendText("ping")
	if k := <-waiting; k != "fast" {
		t.Fatalf("waiting %s", k)
	}
	close(release["fast"])
	if got := fast.ReceiveText(); got != "pong" {
		t.Fatalf("fast got %q", got)
	}
	slow.ReceiveNothing() // still waiting, and it held nobody up
	close(release["slow"])
	if got := slow.ReceiveText(); got != "pong" {
		t.Fatalf("slow got %q", got)
	}
}

func TestPingWaitsTheDelay(t *testing.T) {
	c := consumertest.NewWebSocket(t, ping.New(1), "/ping/")
	c.Connect()
	c.SendText("ping")
	if got := c.ReceiveText(); got != "pong" {
		t.Fatalf("got %q", got)
	}
	c.Disconnect(1000)
}

type keyCtx struct{}

func keyOf(ctx context.Context) string { return ctx.Value(keyCtx{}).(string) }

// withKey runs app's handlers with key in their context.
func withKey(app scope.Application, key string) scope.Application {
	return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		inst, err := app.NewInstance(ctx, s, conn)
		if err != nil {
			return nil, err
		}
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			return inst.Handle(context.WithValue(ctx, keyCtx{}, key), ev)
		}), nil
	})
}
