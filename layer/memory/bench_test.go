package memory_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

func newBenchLayer(b *testing.B, cfg layer.Config) *memory.Layer {
	b.Helper()
	l, err := memory.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close() })
	return l
}

// The event is boxed once, as a real sender's would be, so that the
// figures show the layer's allocations and not the caller's.
var benchEvent event.Event = layertest.Ping{N: 1, Text: "hello"}

func BenchmarkSendReceive(b *testing.B) {
	l := newBenchLayer(b, layer.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Send(ctx, "bench.one", benchEvent); err != nil {
			b.Fatal(err)
		}
		if _, err := l.Receive(ctx, "bench.one"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSendReceiveParallel(b *testing.B) {
	l := newBenchLayer(b, layer.Config{})
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ch := fmt.Sprintf("bench.parallel%d", next.Add(1))
		for pb.Next() {
			if err := l.Send(ctx, ch, benchEvent); err != nil {
				b.Error(err)
				return
			}
			if _, err := l.Receive(ctx, ch); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGroupSend measures one GroupSend to groups of growing size.
// Member channels are drained outside the timer whenever they fill up, so
// every measured send delivers to every member.
func BenchmarkGroupSend(b *testing.B) {
	for _, members := range []int{100, 1000, 10_000} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			const capacity = 100
			l := newBenchLayer(b, layer.Config{Capacity: capacity})
			ctx := context.Background()
			names := make([]string, members)
			for i := range names {
				names[i] = fmt.Sprintf("bench.member%d", i)
				if err := l.GroupAdd(ctx, "bench.group", names[i]); err != nil {
					b.Fatal(err)
				}
			}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			drain := func() {
				for _, ch := range names {
					// A Receive whose context has ended still takes what
					// is queued, and never waits.
					for {
						if _, err := l.Receive(cancelled, ch); err != nil {
							break
						}
					}
				}
			}
			send := func() {
				if err := l.GroupSend(ctx, "bench.group", benchEvent); err != nil {
					b.Fatal(err)
				}
			}
			// Create the channels and grow their queues before timing.
			for range capacity {
				send()
			}
			drain()

			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%capacity == 0 {
					b.StopTimer()
					drain()
					b.StartTimer()
				}
				send()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(members), "ns/member")
		})
	}
}
