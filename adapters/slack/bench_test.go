package slack_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// BenchmarkSocketMode measures events a second end to end in Socket Mode:
// the fake encodes an envelope and writes it to the WebSocket, slack-go
// reads and parses it, the adapter decodes it, delivers it to its scope
// and acknowledges it, and the fake records the ack. With reply, each
// event is also answered with chat.postMessage over HTTP (rate limits
// lifted). Events go round-robin to 16 channels.
func BenchmarkSocketMode(b *testing.B) {
	for _, reply := range []bool{false, true} {
		b.Run(fmt.Sprintf("reply=%v", reply), func(b *testing.B) {
			e := newEnv(b, slack.ModeSocket, func(c *slack.Config) {
				c.PostRate, c.PostBurst = 1e9, 1e6
				c.RateLimits = map[string]float64{"chat.postMessage": 1e9}
			})
			var handled atomic.Int64
			done := make(chan struct{})
			target := int64(b.N)
			app := scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, conn scope.Conn) (scope.Instance, error) {
				return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
					m, ok := ev.(slack.Message)
					if !ok {
						return nil
					}
					if reply {
						if err := conn.Send(ctx, m.ChatReply("ok")); err != nil {
							return err
						}
					}
					if handled.Add(1) == target {
						close(done)
					}
					return nil
				}), nil
			})
			e.run(b, app)
			msgs := make([]map[string]any, 16)
			for i := range msgs {
				msgs[i] = e.fake.Message(fmt.Sprintf("C%02d", i), "U1", "benchmark message")
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				e.fake.PushEvent(msgs[i%len(msgs)])
			}
			select {
			case <-done:
			case <-time.After(time.Minute):
				b.Fatalf("handled %d of %d", handled.Load(), b.N)
			}
			e.fake.WaitAckCount(b, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			if reply {
				e.fake.WaitCalls(b, "chat.postMessage", b.N)
			}
		})
	}
}
