package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// The event is boxed once, as a real sender's would be.
var benchEvent event.Event = layertest.Ping{N: 1, Text: "hello"}

// benchPayload is about the size of benchEvent's wire form with its random
// prefix, for the raw baselines.
var benchPayload = []byte("0123456789ab\x83\xa1n\x01\xa4text\xa5hello\xa4type\xa9test.ping")

// pairs runs op as b.N operations spread over channels goroutines, each
// with its own channel, and reports operations per second.
func pairs(b *testing.B, channels int, op func(ctx context.Context, ch string, i int) error) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for g := range channels {
		n := b.N / channels
		if g < b.N%channels {
			n++
		}
		ch := fmt.Sprintf("bench.%d", g)
		wg.Go(func() {
			for i := range n {
				if err := op(ctx, ch, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
}

// BenchmarkSendReceive measures a send and a receive of the same message,
// on one channel and on 16 channels at once, beside the same work done
// with raw go-redis calls on the same server: ZADD+BZPOPMIN (the data
// structure the layer uses) and LPUSH+BRPOP (the cheapest queue Redis
// has).
func BenchmarkSendReceive(b *testing.B) {
	url := sharedURL(b)
	prefix := testPrefix(b, url)
	opt, _ := goredis.ParseURL(url)
	raw := goredis.NewClient(opt)
	b.Cleanup(func() { _ = raw.Close() })
	l := newLayer(b, redis.Config{URL: url, Prefix: prefix})
	for _, channels := range []int{1, 16} {
		b.Run(fmt.Sprintf("layer/channels=%d", channels), func(b *testing.B) {
			pairs(b, channels, func(ctx context.Context, ch string, _ int) error {
				if err := l.Send(ctx, ch, benchEvent); err != nil {
					return err
				}
				_, err := l.Receive(ctx, ch)
				return err
			})
		})
		// A consumer's receive context can be cancelled, which puts the
		// non-blocking pop beside Receive rather than in it.
		b.Run(fmt.Sprintf("layer-cancellable/channels=%d", channels), func(b *testing.B) {
			cctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pairs(b, channels, func(_ context.Context, ch string, _ int) error {
				if err := l.Send(cctx, ch, benchEvent); err != nil {
					return err
				}
				_, err := l.Receive(cctx, ch)
				return err
			})
		})
		b.Run(fmt.Sprintf("raw-zadd-bzpopmin/channels=%d", channels), func(b *testing.B) {
			pairs(b, channels, func(ctx context.Context, ch string, i int) error {
				key := prefix + "raw." + ch
				if err := raw.ZAdd(ctx, key, goredis.Z{Score: float64(i), Member: benchPayload}).Err(); err != nil {
					return err
				}
				return raw.BZPopMin(ctx, time.Second, key).Err()
			})
		})
		b.Run(fmt.Sprintf("raw-lpush-brpop/channels=%d", channels), func(b *testing.B) {
			pairs(b, channels, func(ctx context.Context, ch string, _ int) error {
				key := prefix + "rawlist." + ch
				if err := raw.LPush(ctx, key, benchPayload).Err(); err != nil {
					return err
				}
				return raw.BRPop(ctx, time.Second, key).Err()
			})
		})
	}
}

// BenchmarkGroupSend measures one group send to 1,000 and 10,000 members,
// each an ordinary channel with a key of its own, and to members that are
// process-local channels of one process, which share a key. Channels are
// emptied every 50 sends, outside the timer, so that they never fill up.
func BenchmarkGroupSend(b *testing.B) {
	url := sharedURL(b)
	for _, members := range []int{1000, 10000} {
		for _, kind := range []string{"plain", "local"} {
			b.Run(fmt.Sprintf("members=%d/%s", members, kind), func(b *testing.B) {
				prefix := testPrefix(b, url)
				var c redistest.RoundTrips
				l := newLayer(b, redis.Config{URL: url, Prefix: prefix,
					Config: layer.Config{Capacity: 100}}, redis.WithHook(&c))
				ctx := context.Background()
				for i := range members {
					ch := "bench.member." + strconv.Itoa(i)
					if kind == "local" {
						var err error
						if ch, err = l.NewChannel(ctx, "bench."); err != nil {
							b.Fatal(err)
						}
					}
					must(b, l.GroupAdd(ctx, "bench.room", ch))
				}
				must(b, l.GroupSend(ctx, "bench.room", benchEvent)) // loads the script
				b.ReportAllocs()
				b.ResetTimer()
				trips := int64(0)
				for i := 0; b.Loop(); i++ {
					if i%50 == 49 {
						b.StopTimer()
						deleteKeys(b, url, prefix+"bench.member")
						deleteKeys(b, url, prefix+"bench.")
						for j := range members {
							if kind == "plain" {
								must(b, l.GroupAdd(ctx, "bench.room", "bench.member."+strconv.Itoa(j)))
							}
						}
						b.StartTimer()
					}
					trips += c.During(func() { must(b, l.GroupSend(ctx, "bench.room", benchEvent)) })
				}
				b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
			})
		}
	}
}

// BenchmarkRoomSends is the room bot's traffic in one process: 50 rooms of
// two subscribed members, a sender per room making group sends as fast as
// it can, each waiting for its send (await) or queueing it (queue). It
// reports the script calls per send: below 1, sends shared a batch. A
// receiver drains the process's key, as the process's receive loop would.
func BenchmarkRoomSends(b *testing.B) {
	const rooms = 50
	for _, mode := range []string{"await", "queue"} {
		b.Run(mode, func(b *testing.B) {
			url := sharedURL(b)
			g := newGate()
			close(g.open) // counts, holds nothing
			l := newLayer(b, redis.Config{URL: url, Prefix: testPrefix(b, url)}, redis.WithHook(g))
			ctx := context.Background()
			for r := range rooms {
				for range 2 {
					ch, err := l.NewChannel(ctx, "specific.")
					must(b, err)
					cancel, err := l.Subscribe(ch, func(*layer.Shared) {})
					must(b, err)
					b.Cleanup(cancel)
					must(b, l.GroupAdd(ctx, "room."+strconv.Itoa(r), ch))
				}
			}
			must(b, l.GroupSend(ctx, "room.0", benchEvent)) // loads the script
			var sent sync.WaitGroup
			done := func(err error) {
				if err != nil {
					b.Error(err)
				}
				sent.Done()
			}
			scripts := g.scripts.Load()
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for r := range rooms {
				n := b.N / rooms
				if r < b.N%rooms {
					n++
				}
				group := "room." + strconv.Itoa(r)
				wg.Go(func() {
					for range n {
						var err error
						if mode == "await" {
							err = l.GroupSend(ctx, group, benchEvent)
						} else {
							sent.Add(1)
							if err = l.QueueGroupSend(ctx, group, benchEvent, done); err != nil {
								sent.Done()
							}
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			sent.Wait()
			b.StopTimer()
			b.ReportMetric(float64(g.scripts.Load()-scripts)/float64(b.N), "scripts/send")
		})
	}
}
