package consumer_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/layer/redis"
	"github.com/switchboard-bots/switchboard/scope"
)

// decodes counts every decoding of a counted event from MessagePack: the
// hook that shows how often a group message is decoded.
var decodes atomic.Int64

// counted is a group message whose decoding is counted.
type counted struct {
	Text string `msgpack:"text"`
}

func (counted) Type() string { return "fanout.counted" }

// plainCounted decodes as counted does, without the hook.
type plainCounted counted

func (c *counted) DecodeMsgpack(dec *msgpack.Decoder) error {
	decodes.Add(1)
	return dec.Decode((*plainCounted)(c))
}

// join is the platform event that makes a fan member join the group.
type join struct{}

func (join) Type() string { return "fanout.join" }

// fanTally counts what the members of a fanOut did, and says when a count
// reaches what the test waits for.
type fanTally struct {
	heard    atomic.Int64
	want     atomic.Int64  // of heard
	joins    chan struct{} // one per member that joined
	allHeard chan struct{}
}

// fan is a member of the group "fan": it joins on join and counts what it
// hears.
type fan struct {
	consumer.Base
	t *fanTally
}

func (f *fan) Join(ctx context.Context, _ join) error {
	if err := f.GroupAdd(ctx, "fan"); err != nil {
		return err
	}
	f.t.joins <- struct{}{}
	return nil
}

func (f *fan) Counted(_ context.Context, c counted) error {
	if c.Text == "" {
		return fmt.Errorf("empty text")
	}
	if f.t.heard.Add(1) == f.t.want.Load() {
		f.t.allHeard <- struct{}{}
	}
	return nil
}

type fanDisconnect struct{ r scope.Reason }

func (fanDisconnect) Type() string              { return "fanout.disconnect" }
func (d fanDisconnect) EndReason() scope.Reason { return d.r }

type fanAdapter struct{}

func (fanAdapter) Send(context.Context, *scope.Scope, event.Event) error { return nil }
func (fanAdapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return fanDisconnect{r}
}

// fanOut starts n members of the group "fan" on l, each a scope of one
// manager, as in one process, and returns a function that sends a group
// message msgs times and waits until every member has handled each.
func fanOut(t testing.TB, l layer.Layer, n int) (send func(msgs int, ev event.Event)) {
	t.Helper()
	tl := &fanTally{joins: make(chan struct{}, n), allHeard: make(chan struct{}, 1)}
	app := consumer.WithLayer(l)(consumer.New(func() *fan { return &fan{t: tl} },
		consumer.On((*fan).Join), consumer.On((*fan).Counted)))
	m, err := scope.NewManager(app, fanAdapter{}, scope.Config{IdleTimeout: -1, MaxScopes: n + 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	ctx := context.Background()
	// Members join a batch at a time, as connections arrive, rather than
	// all at once, which would ask the Redis client for 10,000
	// connections.
	const batch = 200
	for i := 0; i < n; i += batch {
		end := min(i+batch, n)
		for j := i; j < end; j++ {
			key := fmt.Sprintf("m%d", j)
			if err := m.Deliver(ctx, key, join{}, func() *scope.Scope { return &scope.Scope{Type: "fanout", Key: key} }); err != nil {
				t.Fatal(err)
			}
		}
		for j := i; j < end; j++ {
			select {
			case <-tl.joins:
			case <-time.After(time.Minute):
				t.Fatalf("%d of %d members joined", j, n)
			}
		}
	}
	return func(msgs int, ev event.Event) {
		t.Helper()
		tl.heard.Store(0)
		tl.want.Store(int64(n * msgs))
		for range msgs {
			if err := l.GroupSend(ctx, "fan", ev); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-tl.allHeard:
		case <-time.After(time.Minute):
			t.Fatalf("%d of %d deliveries handled", tl.heard.Load(), n*msgs)
		}
	}
}

func memoryLayer(t testing.TB) layer.Layer {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func redisLayer(t testing.TB) layer.Layer {
	url := redistest.URL(t)
	l, err := redis.New(redis.Config{URL: url, Prefix: redistest.Prefix(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestGroupMessageDecodedOncePerProcess sends group messages to 1,000
// members in one process and counts how often each is decoded into the
// members' handler type: once, however many members there are. On the
// in-memory layer the message is sent in generic form, as one from
// another process would be.
func TestGroupMessageDecodedOncePerProcess(t *testing.T) {
	const members, msgs = 1000, 5
	for _, tc := range []struct {
		name string
		l    func(testing.TB) layer.Layer
		ev   event.Event
	}{
		{"memory", memoryLayer, event.Message{"type": "fanout.counted", "text": "hi"}},
		{"redis", redisLayer, counted{Text: "hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send := fanOut(t, tc.l(t), members)
			before := decodes.Load()
			send(msgs, tc.ev)
			if got := decodes.Load() - before; got != msgs {
				t.Fatalf("%d group messages to %d members were decoded %d times, want %d (once each)", msgs, members, got, msgs)
			}
		})
	}
}

// TestGoroutinesDoNotGrowWithMembers joins 10,000 members to a group and
// checks that the process runs no goroutine per member: the layer
// delivers to their scopes from one receiver (Redis) or from the sender
// (in memory), and idle scopes hold no goroutine. The constant allows
// for the scope manager's workers (at most scope.DefaultWorkers, parked
// for 20 ms after a burst) and the layer's own.
func TestGoroutinesDoNotGrowWithMembers(t *testing.T) {
	const members, slack = 10000, scope.DefaultWorkers + 50
	for _, tc := range []struct {
		name string
		l    func(testing.TB) layer.Layer
	}{
		{"memory", memoryLayer},
		{"redis", redisLayer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.l(t)
			base := runtime.NumGoroutine()
			send := fanOut(t, l, members)
			send(3, counted{Text: "hi"})
			if got := runtime.NumGoroutine(); got > base+slack {
				t.Fatalf("%d goroutines with %d members, %d before: more than a constant per process", got, members, base)
			}
		})
	}
}

// goroutinePerMember hides the layer's Subscriber, so that its consumers
// each receive on a goroutine of their own, as they did before layers
// delivered to them: the baseline of BenchmarkGroupSend.
type goroutinePerMember struct{ layer.Layer }

// BenchmarkGroupSend sends group messages to 10,000 members in one
// process and waits until each has been handled by every member: an
// operation is one group message, delivered 10,000 times. Each layer runs
// twice, side by side: "subscribed" is the layer delivering from one
// receiver per process, "goroutines" a receiving goroutine per member.
// decodes/op is how often the message was decoded into the handler's type.
func BenchmarkGroupSend(b *testing.B) {
	const members = 10000
	for _, backend := range []struct {
		name string
		l    func(testing.TB) layer.Layer
		ev   event.Event
	}{
		{"memory", memoryLayer, event.Message{"type": "fanout.counted", "text": "hi"}},
		{"redis", redisLayer, counted{Text: "hi"}},
	} {
		for _, mode := range []string{"subscribed", "goroutines"} {
			b.Run(backend.name+"/"+mode, func(b *testing.B) {
				l := backend.l(b)
				if mode == "goroutines" {
					l = goroutinePerMember{l}
				}
				send := fanOut(b, l, members)
				send(1, backend.ev) // warm
				before := decodes.Load()
				b.ReportAllocs()
				b.ResetTimer()
				send(b.N, backend.ev)
				b.StopTimer()
				b.ReportMetric(float64(members*b.N)/b.Elapsed().Seconds(), "deliveries/s")
				b.ReportMetric(float64(decodes.Load()-before)/float64(b.N), "decodes/op")
			})
		}
	}
}
