package cluster_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// msg is the fake adapter's inbound event: the n-th message of a
// conversation.
type msg struct {
	Key string `msgpack:"key"`
	N   int    `msgpack:"n"`
	ID  string `msgpack:"id,omitempty"`
}

func (msg) Type() string { return "fake.msg" }

// UniqueID implements adapters.Unique when the message has an id.
func (m msg) UniqueID() string { return m.ID }

// fake is an adapter whose intake the test drives.
type fake struct{ in chan *adapters.Intake }

var (
	_ adapters.Adapter        = (*fake)(nil)
	_ adapters.InboundDecoder = (*fake)(nil)
)

func (*fake) Name() string { return "fake" }

func (f *fake) Serve(ctx context.Context, in *adapters.Intake) error {
	f.in <- in
	in.Ready()
	<-ctx.Done()
	return nil
}

func (*fake) Send(context.Context, *scope.Scope, event.Event) error { return nil }

func (*fake) DecodeInbound(m event.Message) (event.Event, error) { return event.Decode[msg](m) }

// newScope builds a fake conversation's scope.
func newScope(key string) func() *scope.Scope {
	return func() *scope.Scope {
		return &scope.Scope{Type: "fake", Adapter: "fake", Chat: scope.Chat{ID: key}}
	}
}

// record is what the test application saw, across every process.
type record struct {
	mu       sync.Mutex
	inside   map[string]string // conversation → the process handling it now
	overlaps []string
	seen     map[string][]int // conversation → the numbers handled, in order
	by       map[string][]string
	total    int
	moved    int // scopes ended with adapters.ReasonMoved
	changed  chan struct{}
	hold     time.Duration            // how long each handler takes
	gate     chan struct{}            // if not nil, each handler waits for a value from it
	gates    map[string]chan struct{} // per conversation: its handlers wait until it is closed; set before use
	entered  chan string              // if not nil, told each conversation entered
}

func newRecord() *record {
	return &record{inside: map[string]string{}, seen: map[string][]int{}, by: map[string][]string{},
		changed: make(chan struct{}, 1)}
}

// app returns the application of process name: it records entering and
// leaving each handler, and the numbers it handled.
func (r *record) app(name string) scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			m, ok := ev.(msg)
			if !ok {
				if f, final := ev.(scope.Final); final && f.EndReason() == adapters.ReasonMoved {
					r.mu.Lock()
					r.moved++
					r.mu.Unlock()
				}
				return nil
			}
			if m.Key != s.Key || s.Chat.ID != s.Key {
				return fmt.Errorf("event of %q in scope %q", m.Key, s.Key)
			}
			r.mu.Lock()
			if other, busy := r.inside[m.Key]; busy {
				r.overlaps = append(r.overlaps, m.Key+": "+other+" and "+name)
			}
			r.inside[m.Key] = name
			r.mu.Unlock()
			if r.entered != nil {
				r.entered <- m.Key
			}
			if r.gate != nil {
				<-r.gate
			}
			if g := r.gates[m.Key]; g != nil {
				<-g
			}
			if r.hold > 0 {
				time.Sleep(r.hold) // a handler that takes a while, so that overlaps would show
			}
			r.mu.Lock()
			delete(r.inside, m.Key)
			r.seen[m.Key] = append(r.seen[m.Key], m.N)
			r.by[m.Key] = append(r.by[m.Key], name)
			r.total++
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
			return nil
		}), nil
	})
}

// await waits until cond holds on the record, or fails after timeout.
func (r *record) await(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
}

// proc is one process of a test cluster: a Node and a Host.
type proc struct {
	name string
	node *cluster.Node
	host *adapters.Host
	in   *adapters.Intake
	done chan error
	stop context.CancelFunc
}

// startProc starts a process on the Redis that redis makes clients of.
func startProc(t testing.TB, redis func(testing.TB) goredis.UniversalClient, prefix, name string, cfg cluster.Config, r *record, opts ...cluster.Option) *proc {
	t.Helper()
	node, err := cluster.New(redis(t), prefix, cfg, append([]cluster.Option{cluster.WithID(name)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{in: make(chan *adapters.Intake, 1)}
	h := adapters.NewHost(f, adapters.WithJournal(node))
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{name: name, node: node, host: h, done: make(chan error, 1), stop: cancel}
	go func() { p.done <- h.Run(ctx, r.app(name)) }()
	p.in = <-f.in
	t.Cleanup(func() { p.shutdown(t) })
	return p
}

// shutdown stops the process cleanly, once.
func (p *proc) shutdown(t testing.TB) {
	if p.done == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.host.Shutdown(ctx); err != nil {
		t.Errorf("%s: shutdown: %v", p.name, err)
	}
	<-p.done
	p.done = nil
	p.stop()
}

func key(i int) string { return "c" + strconv.Itoa(i) }
