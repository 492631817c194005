package redis_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestRoomPathLosesNothing is the room bot's traffic on two processes: 50
// rooms of two members, one on each, every member's channel subscribed,
// and group sends to the rooms from several senders at once, as fast as
// Redis takes them. Every delivery arrives and none is skipped: the key
// each process's members share is drained in batches and holds
// localKeyScale times a channel's capacity.
func TestRoomPathLosesNothing(t *testing.T) {
	const rooms, senders = 50, 8
	sends := 10000
	if testing.Short() {
		sends = 1000
	}
	url := sharedURL(t)
	prefix := testPrefix(t, url)
	obs := new(layertest.SkipCounter)
	var delivered atomic.Int64
	all := make(chan struct{})
	want := int64(2 * sends)
	ctx := context.Background()
	var procs []*redis.Layer
	for range 2 {
		l := newLayer(t, redis.Config{URL: url, Prefix: prefix}, redis.WithSkipObserver(obs))
		procs = append(procs, l)
		for r := range rooms {
			ch, err := l.NewChannel(ctx, "specific.")
			if err != nil {
				t.Fatal(err)
			}
			cancel, err := l.Subscribe(ch, func(*layer.Shared) {
				if delivered.Add(1) == want {
					close(all)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cancel)
			if err := l.GroupAdd(ctx, fmt.Sprintf("room.%d", r), ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := procs[s%2]
			for i := s; i < sends; i += senders {
				msg := event.Message{"type": "room.message", "text": "hello", "n": i}
				if err := l.GroupSend(ctx, fmt.Sprintf("room.%d", i%rooms), msg); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(time.Minute):
	}
	skipped := obs.Total()
	if got := delivered.Load(); got != want || skipped != 0 {
		t.Fatalf("%d of %d deliveries arrived, %d skipped", got, want, skipped)
	}
	t.Logf("%d group sends, %d deliveries, all arrived: %.0f sends/s", sends, want, float64(sends)/time.Since(start).Seconds())
}
