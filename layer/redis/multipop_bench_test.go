package redis_test

import (
	"fmt"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// BenchmarkLocalBurst times bursts of group sends from one process to a
// subscribed process-local channel of another, as a room's lines go from
// the sender's process to a hub in the other: each iteration queues burst
// sends, which go in one script call, and waits until the last was
// delivered. bzmpop pops them with one round trip, bzpopmin+zpopmin with
// two.
//
//	go test -run XXX -bench LocalBurst -count 6 ./layer/redis
func BenchmarkLocalBurst(b *testing.B) {
	for _, burst := range []int{1, 4} {
		for _, multi := range []bool{false, true} {
			name := "bzpopmin+zpopmin"
			if multi {
				name = "bzmpop"
			}
			b.Run(fmt.Sprintf("burst=%d/%s", burst, name), func(b *testing.B) {
				url := sharedURL(b)
				cfg := redis.Config{URL: url, Prefix: testPrefix(b, url)}
				from, to := newLayer(b, cfg), newLayer(b, cfg)
				redis.SetMultiPop(to, multi)
				ctx := b.Context()
				ch, err := to.NewChannel(ctx, "specific.")
				must(b, err)
				got := make(chan struct{}, burst)
				cancel, err := to.Subscribe(ch, func(*layer.Shared) { got <- struct{}{} })
				must(b, err)
				defer cancel()
				must(b, to.GroupAdd(ctx, "bench.burst", ch))
				msg := event.Message{"type": "chat.message", "text": "hello"}
				for b.Loop() {
					for range burst {
						must(b, from.QueueGroupSend(ctx, "bench.burst", msg, func(err error) {
							if err != nil {
								b.Error(err)
							}
						}))
					}
					for range burst {
						<-got
					}
				}
			})
		}
	}
}
