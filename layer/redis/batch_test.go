package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// gate is a go-redis hook that holds the first group send script call
// until it is opened, and counts the script calls.
type gate struct {
	held    chan struct{} // closed when the first call is held
	open    chan struct{}
	once    sync.Once
	scripts atomic.Int64
}

func newGate() *gate { return &gate{held: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (g *gate) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			g.scripts.Add(1)
			g.once.Do(func() {
				close(g.held)
				<-g.open
			})
		}
		return next(ctx, cmd)
	}
}

func (g *gate) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// numbers records the numbers of the messages a subscribed channel got,
// in order.
type numbers struct {
	mu   sync.Mutex
	ns   []int
	want int
	all  chan struct{}
}

func newNumbers(want int) *numbers { return &numbers{want: want, all: make(chan struct{})} }

func (r *numbers) deliver(sh *layer.Shared) {
	n := num(sh.Event())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ns = append(r.ns, n)
	if len(r.ns) == r.want {
		close(r.all)
	}
}

func (r *numbers) wait(t *testing.T) []int {
	t.Helper()
	select {
	case <-r.all:
	case <-time.After(30 * time.Second):
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ns) != r.want {
		t.Fatalf("%d of %d messages arrived", len(r.ns), r.want)
	}
	return r.ns
}

// TestQueuedGroupSendsGoInBatchesInOrder queues group sends while the
// first batch is held on its way, and checks that the rest went in a few
// script calls rather than one each, that every member got every message
// in the order queued, each done reporting success, and that a GroupSend
// made after them arrives after them.
func TestQueuedGroupSendsGoInBatchesInOrder(t *testing.T) {
	const sends = 1000
	url := sharedURL(t)
	g := newGate()
	l := newLayer(t, redis.Config{URL: url, Prefix: testPrefix(t, url), Config: layer.Config{Capacity: 2 * sends}}, redis.WithHook(g))
	ctx := t.Context()
	local, err := l.NewChannel(ctx, "specific.")
	must(t, err)
	got := newNumbers(sends + 1)
	cancel, err := l.Subscribe(local, got.deliver)
	must(t, err)
	defer cancel()
	must(t, l.GroupAdd(ctx, "room", local))
	must(t, l.GroupAdd(ctx, "room", "plain"))

	var ok atomic.Int64
	done := func(err error) {
		if err != nil {
			t.Errorf("queued send: %v", err)
			return
		}
		ok.Add(1)
	}
	must(t, l.QueueGroupSend(ctx, "room", event.Message{"type": "test.n", "n": 0}, done))
	<-g.held
	for i := 1; i < sends; i++ {
		must(t, l.QueueGroupSend(ctx, "room", event.Message{"type": "test.n", "n": i}, done))
	}
	close(g.open)
	must(t, l.GroupSend(ctx, "room", event.Message{"type": "test.n", "n": sends}))

	ns := got.wait(t)
	for i, n := range ns {
		if n != i {
			t.Fatalf("message %d is %d: out of order (%v...)", i, n, ns[max(0, i-3):i+1])
		}
	}
	if ok.Load() != sends {
		t.Errorf("%d of %d done callbacks reported success", ok.Load(), sends)
	}
	// The first call, then the 999 queued sends in batches of at most
	// 256, then the GroupSend (possibly with the last of them).
	if n := g.scripts.Load(); n > 6 {
		t.Errorf("%d script calls for %d group sends", n, sends+1)
	}
	for i := range sends + 1 {
		ev, err := l.Receive(ctx, "plain")
		must(t, err)
		if n := num(ev); n != i {
			t.Fatalf("plain channel: message %d is %d", i, n)
		}
	}
}

// TestConcurrentGroupSendsShareBatches makes group sends from many
// goroutines at once, some queued and some awaited, to groups of two
// members in two processes, and checks that every delivery arrives, in
// each sender's order, and that no member is skipped.
func TestConcurrentGroupSendsShareBatches(t *testing.T) {
	const senders, each, rooms = 16, 100, 4
	url := sharedURL(t)
	prefix := testPrefix(t, url)
	obs := new(layertest.SkipCounter)
	a := newLayer(t, redis.Config{URL: url, Prefix: prefix}, redis.WithSkipObserver(obs))
	b := newLayer(t, redis.Config{URL: url, Prefix: prefix}, redis.WithSkipObserver(obs))
	ctx := t.Context()
	var gots []*numbers
	for r := range rooms {
		for _, l := range []*redis.Layer{a, b} {
			ch, err := l.NewChannel(ctx, "specific.")
			must(t, err)
			got := newNumbers(senders / rooms * each)
			cancel, err := l.Subscribe(ch, got.deliver)
			must(t, err)
			t.Cleanup(cancel)
			must(t, l.GroupAdd(ctx, roomName(r), ch))
			gots = append(gots, got)
		}
	}
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			l := []*redis.Layer{a, b}[s%2]
			for i := range each {
				msg := event.Message{"type": "test.n", "n": s*each + i}
				var err error
				if i%2 == 0 {
					err = l.QueueGroupSend(ctx, roomName(s%rooms), msg, func(err error) {
						if err != nil {
							t.Errorf("queued send: %v", err)
						}
					})
				} else {
					err = l.GroupSend(ctx, roomName(s%rooms), msg)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, got := range gots {
		last := map[int]int{} // sender → its last message seen
		for _, n := range got.wait(t) {
			s := n / each
			if prev, seen := last[s]; seen && n <= prev {
				t.Fatalf("sender %d: %d after %d", s, n, prev)
			}
			last[s] = n
		}
	}
	if n := obs.Total(); n != 0 {
		t.Errorf("%d deliveries skipped", n)
	}
}

// num returns the field "n" of a numbers message, whatever integer type
// it decoded as.
func num(ev event.Event) int {
	m, _ := ev.(event.Message)
	n, err := strconv.Atoi(fmt.Sprint(m["n"]))
	if err != nil {
		return -1
	}
	return n
}

func roomName(r int) string { return "room." + string(rune('a'+r)) }

// TestQueueGroupSendRefusesAtOnce checks what QueueGroupSend refuses
// without queueing, and that a queued send to a full member is reported
// as a skip, not a failure.
func TestQueueGroupSendRefusesAtOnce(t *testing.T) {
	url := sharedURL(t)
	obs := new(layertest.SkipCounter)
	l, err := redis.New(redis.Config{URL: url, Prefix: testPrefix(t, url), Config: layer.Config{Capacity: 1}},
		redis.WithSkipObserver(obs))
	must(t, err)
	ctx := t.Context()
	never := func(err error) { t.Errorf("done called for a send refused at once: %v", err) }
	if err := l.QueueGroupSend(ctx, "bad group!", event.Message{"type": "t.t"}, never); !errors.Is(err, layer.ErrInvalidName) {
		t.Errorf("invalid group: %v, want ErrInvalidName", err)
	}
	if err := l.QueueGroupSend(ctx, "g", event.Message{}, never); !errors.Is(err, event.ErrNoType) {
		t.Errorf("event without a type: %v, want event.ErrNoType", err)
	}

	must(t, l.GroupAdd(ctx, "g", "full"))
	must(t, l.Send(ctx, "full", event.Message{"type": "t.t"}))
	outcome := make(chan error, 1)
	must(t, l.QueueGroupSend(ctx, "g", event.Message{"type": "t.t"}, func(err error) { outcome <- err }))
	if err := <-outcome; err != nil {
		t.Errorf("queued send to a full member: %v, want nil (a skip)", err)
	}
	if n := obs.Total(); n != 1 {
		t.Errorf("%d skips counted, want 1", n)
	}

	must(t, l.Close())
	if err := l.QueueGroupSend(ctx, "g", event.Message{"type": "t.t"}, never); !errors.Is(err, layer.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// TestQueuedGroupSendsAreBounded holds the first batch while a sender
// queues as many group sends as the queue takes: the one after them waits
// for room and, its context ended, fails without being queued, while the
// queued ones are all made once the batch goes on.
func TestQueuedGroupSendsAreBounded(t *testing.T) {
	const bound = 10_000 // the queue's documented bound
	url := sharedURL(t)
	g := newGate()
	l := newLayer(t, redis.Config{URL: url, Prefix: testPrefix(t, url), Config: layer.Config{Capacity: 2 * bound}}, redis.WithHook(g))
	open := sync.OnceFunc(func() { close(g.open) })
	t.Cleanup(open) // before the layer's Close, which waits for the held batch
	ctx := t.Context()
	must(t, l.GroupAdd(ctx, "room", "plain"))

	var ok atomic.Int64
	var all sync.WaitGroup
	done := func(err error) {
		defer all.Done()
		if err != nil {
			t.Errorf("queued send: %v", err)
			return
		}
		ok.Add(1)
	}
	all.Add(bound)
	for i := range bound {
		must(t, l.QueueGroupSend(ctx, "room", event.Message{"type": "test.n", "n": i}, done))
		if i == 0 {
			<-g.held
		}
	}
	// A context still live when the call begins: with room in the queue
	// the send would be queued at once, whatever the timeout.
	over, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := l.QueueGroupSend(over, "room", event.Message{"type": "test.n", "n": bound}, func(error) {
		t.Error("the send over the bound was queued")
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send over the bound: %v, want an error wrapping context.DeadlineExceeded", err)
	}
	open()
	all.Wait()
	if ok.Load() != bound {
		t.Fatalf("%d of %d queued sends made", ok.Load(), bound)
	}
	for i := range bound {
		ev, err := l.Receive(ctx, "plain")
		must(t, err)
		if n := num(ev); n != i {
			t.Fatalf("plain channel: message %d is %d", i, n)
		}
	}
}
