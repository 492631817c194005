package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestEverySkipIsCountedAndLogged sends to a group far beyond its
// members' capacity, on one server (the group send script) and on two
// shards (a script per shard), and checks that every skipped delivery is
// counted and reported by the rate-limited warnings. Members are plain
// channels, and process-local channels of a process that receives
// nothing, whose shared key holds localKeyScale times a channel's capacity.
func TestEverySkipIsCountedAndLogged(t *testing.T) {
	const capacity, sends = 2, 300
	url := sharedURL(t)
	two := []string{url, url}
	for _, tc := range []struct {
		name string
		cfg  redis.Config
	}{
		{"single", redis.Config{URL: url}},
		{"shards", redis.Config{Mode: redis.ModeShards, Shards: two}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Prefix = testPrefix(t, url)
			cfg.Config = layer.Config{Capacity: capacity}
			logs, obs := new(logtest.Buffer), new(layertest.SkipCounter)
			l := newLayer(t, cfg, redis.WithLogger(logs.Logger()), redis.WithSkipObserver(obs))
			ctx := context.Background()
			plain := []string{"member.a", "member.b", "member.c"}
			for _, ch := range plain {
				if err := l.GroupAdd(ctx, "hostile", ch); err != nil {
					t.Fatal(err)
				}
			}
			var local []string
			for range 2 {
				ch, err := l.NewChannel(ctx, "specific.")
				if err != nil {
					t.Fatal(err)
				}
				local = append(local, ch)
				if err := l.GroupAdd(ctx, "hostile", ch); err != nil {
					t.Fatal(err)
				}
			}
			for i := range sends {
				if err := l.GroupSend(ctx, "hostile", event.Message{"type": "test.note", "n": i}); err != nil {
					t.Fatal(err)
				}
			}
			// Each plain member took capacity messages; the key of the
			// local ones, shared, 100 times capacity, each copy naming
			// both.
			want := len(plain)*(sends-capacity) + len(local)*(sends-100*capacity)
			if n := obs.Skipped("hostile"); n != want {
				t.Errorf("observer counted %d skips, want %d", n, want)
			}
			if err := l.Close(); err != nil { // logs what the rate limit held back
				t.Fatal(err)
			}
			total, lines := layertest.LoggedSkips(logs.String(), "hostile")
			if total != want {
				t.Errorf("warnings report %d skips, want %d:\n%s", total, want, logs)
			}
			if lines > 2 {
				t.Errorf("%d warnings, want at most 2 (rate-limited):\n%s", lines, logs)
			}
		})
	}
}

// TestGroupSendAllSendsToNoneWhenOneIsFull fills one member's channel and
// checks that GroupSendAll fails with a SkipError and adds nothing, and
// that it reaches every member once there is room.
func TestGroupSendAllSendsToNoneWhenOneIsFull(t *testing.T) {
	url := sharedURL(t)
	l := newLayer(t, redis.Config{URL: url, Prefix: testPrefix(t, url), Config: layer.Config{Capacity: 1}})
	ctx := context.Background()
	for _, ch := range []string{"a", "b", "c"} {
		if err := l.GroupAdd(ctx, "g", ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Send(ctx, "b", event.Message{"type": "test.note", "n": -1}); err != nil {
		t.Fatal(err)
	}
	err := layer.GroupSendAll(ctx, l, "g", event.Message{"type": "test.note", "n": 1})
	var se *layer.SkipError
	if !errors.As(err, &se) || se.Full != 1 || !errors.Is(err, layer.ErrChannelFull) {
		t.Fatalf("GroupSendAll to a group with a full member: %v, want a SkipError for 1 member wrapping ErrChannelFull", err)
	}
	if n := receiveN(t, l, "b", 1); n != -1 {
		t.Fatalf("b holds note %d, want its own -1", n)
	}
	if err := layer.GroupSendAll(ctx, l, "g", event.Message{"type": "test.note", "n": 2}); err != nil {
		t.Fatalf("GroupSendAll with room: %v", err)
	}
	// a and c got nothing from the failed send: the first they hold is 2.
	for _, ch := range []string{"a", "b", "c"} {
		if n := receiveN(t, l, ch, 2); n != 2 {
			t.Fatalf("%s holds note %d first, want 2", ch, n)
		}
	}
	sharded := newLayer(t, redis.Config{Mode: redis.ModeShards, Shards: []string{url, url}, Prefix: testPrefix(t, url)})
	if err := layer.GroupSendAll(ctx, sharded, "g", event.Message{"type": "test.note"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("GroupSendAll on shards: %v, want ErrUnsupported", err)
	}
}

// receiveN receives one message from channel and returns its "n".
func receiveN(t *testing.T, l *redis.Layer, channel string, _ int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := l.Receive(ctx, channel)
	if err != nil {
		t.Fatalf("receive from %s: %v", channel, err)
	}
	return toInt(ev.(event.Message)["n"])
}

// TestSubscriberGetsMessagesFromOneReceiver subscribes process-local
// channels and checks that messages kept before, then sent and group
// sent, reach them in order, the members of one group message sharing
// one Shared, and that a burst larger than one pop drains.
func TestSubscriberGetsMessagesFromOneReceiver(t *testing.T) {
	url := sharedURL(t)
	l := newLayer(t, redis.Config{URL: url, Prefix: testPrefix(t, url)})
	ctx := context.Background()
	a, _ := l.NewChannel(ctx, "specific.")
	b, _ := l.NewChannel(ctx, "specific.")
	const burst = 1000
	type got struct {
		ch string
		sh *layer.Shared
	}
	out := make(chan got, 2*burst+10)
	sub := func(ch string) func(*layer.Shared) {
		return func(sh *layer.Shared) { out <- got{ch, sh} }
	}
	for _, ch := range []string{a, b} {
		if err := l.GroupAdd(ctx, "g", ch); err != nil {
			t.Fatal(err)
		}
	}
	cancelA, err := l.Subscribe(a, sub(a))
	if err != nil {
		t.Fatal(err)
	}
	defer cancelA()
	cancelB, err := l.Subscribe(b, sub(b))
	if err != nil {
		t.Fatal(err)
	}
	defer cancelB()
	if _, err := l.Subscribe(a, sub(a)); err == nil {
		t.Fatal("a second subscriber was accepted")
	}
	for i := range burst {
		if err := l.GroupSend(ctx, "g", event.Message{"type": "test.note", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	next := map[string]int{}
	shared := map[int]*layer.Shared{}
	for range 2 * burst {
		var g got
		select {
		case g = <-out:
		case <-time.After(10 * time.Second):
			t.Fatalf("delivered %v of %d each", next, burst)
		}
		n := toInt(g.sh.Event().(event.Message)["n"])
		if n != next[g.ch] {
			t.Fatalf("%s got note %d, want %d", g.ch, n, next[g.ch])
		}
		next[g.ch]++
		if first, ok := shared[n]; !ok {
			shared[n] = g.sh
		} else if first != g.sh {
			t.Fatalf("the members got group message %d as two Shared values: decoded twice", n)
		}
	}
	if next[a] != burst || next[b] != burst {
		t.Fatalf("delivered %v, want %d each", next, burst)
	}
}

func toInt(v any) int {
	switch v := v.(type) {
	case int8:
		return int(v)
	case int16:
		return int(v)
	case int32:
		return int(v)
	case int64:
		return int(v)
	case uint8:
		return int(v)
	case uint16:
		return int(v)
	case uint32:
		return int(v)
	case uint64:
		return int(v)
	}
	panic(fmt.Sprintf("not an integer: %T", v))
}
