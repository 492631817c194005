package redis_test

import (
	"strconv"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// The receive loop of a process's process-local channels takes every
// message waiting with one blocking pop (BZMPOP), where a BZPOPMIN would
// bring one and a ZPOPMIN the rest; on a Redis without BZMPOP (before
// 7.0, or with the command renamed away, as here) it falls back to those
// two, and every message still arrives in order.
func TestLocalMessagesWaitingArePoppedTogether(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string // redis-server arguments
		want  map[string]int64
	}{
		{name: "bzmpop", want: map[string]int64{"bzmpop": 1, "bzpopmin": 0, "zpopmin": 0}},
		{name: "without bzmpop", extra: []string{"--rename-command", "BZMPOP", ""},
			want: map[string]int64{"bzmpop": 0, "bzpopmin": 1, "zpopmin": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.extra...)
			l := newLayer(t, redis.Config{URL: srv.URL})
			admin := srv.client()
			defer admin.Close()
			ctx := t.Context()
			ch, err := l.NewChannel(ctx, "specific.")
			must(t, err)
			const n = 10
			for i := range n {
				must(t, l.Send(ctx, ch, event.Message{"type": "t", "text": strconv.Itoa(i)}))
			}
			must(t, admin.ConfigResetStat(ctx).Err())
			for i := range n {
				ev, err := l.Receive(ctx, ch)
				must(t, err)
				if got := ev.(event.Message)["text"]; got != strconv.Itoa(i) {
					t.Fatalf("message %d: got %v", i, got)
				}
			}
			must(t, l.Close()) // ends the loop's next pop, which would count once it returned
			stats := commandStats(t, admin)
			for name, want := range tc.want {
				if stats[name] != want {
					t.Errorf("%s: %d calls, want %d; all: %v", name, stats[name], want, stats)
				}
			}
		})
	}
}
