package ops_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

type message struct{ text string }

func (message) Type() string { return "chat.message" }

type reply struct{ text string }

func (reply) Type() string { return "chat.send" }

type ended struct{}

func (ended) Type() string            { return "chat.disconnect" }
func (ended) EndReason() scope.Reason { return scope.ReasonClosed }

// Wire metrics and health into a server: the middleware around the bot,
// the layer wrapped, a readiness check per dependency, and one handler on
// an operations port.
func Example() {
	reg := prometheus.NewRegistry()
	metrics, err := ops.NewMetrics(reg)
	if err != nil {
		panic(err)
	}

	mem, err := memory.New(layer.Config{})
	if err != nil {
		panic(err)
	}
	chans := metrics.Layer()(mem)
	defer chans.Close()

	var health ops.Health
	health.AddCheck("layer", func(ctx context.Context) error {
		_, err := chans.NewChannel(ctx, "health.")
		return err
	})

	echo := scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if m, ok := ev.(message); ok {
				return conn.Send(ctx, reply{"You said: " + m.text})
			}
			return nil
		}), nil
	})
	app := router.With(echo, metrics.Middleware())

	// What an adapter and the scope manager do for one conversation.
	ctx := context.Background()
	inst, _ := app.NewInstance(ctx, &scope.Scope{Type: "console", Key: "bob"}, new(conn))
	inst.Handle(ctx, message{"hello"})
	inst.Handle(ctx, message{"bye"})
	inst.Handle(ctx, ended{})

	srv := httptest.NewServer(ops.Handler(reg, &health))
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "switchboard_events") || strings.HasPrefix(line, "switchboard_scope") {
			fmt.Println(line)
		}
	}

	ready, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		panic(err)
	}
	ready.Body.Close()
	fmt.Println("/readyz:", ready.Status)
	// Output:
	// switchboard_events_in_total{protocol="console",type="chat.disconnect"} 1
	// switchboard_events_in_total{protocol="console",type="chat.message"} 2
	// switchboard_events_out_total{protocol="console",type="chat.send"} 2
	// switchboard_scope_ends_total{protocol="console",reason="closed"} 1
	// switchboard_scopes_live{protocol="console"} 0
	// /readyz: 200 OK
}
