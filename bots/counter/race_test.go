package counter_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/scope"
	sessionredis "github.com/switchboard-bots/switchboard/session/redis"
)

// TestTwoProcessesCountOneConversation: two processes, each with its own
// Redis client and scope manager, count one conversation's messages at
// once. Every message is counted once: the answers are #1 to #200, each
// once. With last-writer-wins, both would save the same count and answer
// it twice.
func TestTwoProcessesCountOneConversation(t *testing.T) {
	const each = 100
	c1, prefix := redisClient(t)
	c2, _ := redisClient(t)
	procs := []*process{
		start(t, sessionredis.New(c1, sessionredis.WithPrefix(prefix)), scope.Config{}),
		start(t, sessionredis.New(c2, sessionredis.WithPrefix(prefix)), scope.Config{}),
	}
	var wg sync.WaitGroup
	answers := make(chan string, 2*each)
	for _, p := range procs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for range each {
				if err := p.m.Deliver(ctx, "shared", consumertest.Message{Text: "hi"}, newScope("shared")); err != nil {
					t.Error(err)
					return
				}
			}
			for range each {
				select {
				case ev := <-p.out:
					answers <- ev.(consumertest.Reply).Text
				case <-ctx.Done():
					t.Error("answers missing")
					return
				}
			}
		})
	}
	wg.Wait()
	close(answers)
	seen := map[string]int{}
	for a := range answers {
		seen[a]++
	}
	for i := 1; i <= 2*each; i++ {
		if n := seen["#"+strconv.Itoa(i)]; n != 1 {
			t.Errorf("#%d answered %d times", i, n)
		}
	}
	procs[0].expect("shared", "/count", "Count: 200")
}
