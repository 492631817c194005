package scope_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// chatMsg is a chat message as an adapter delivers it.
type chatMsg struct {
	Chat, Text string
}

func (chatMsg) Type() string                        { return "bench.message" }
func (m chatMsg) ChatText() string                  { return m.Text }
func (m chatMsg) ChatReply(text string) event.Event { return chatMsg{Chat: m.Chat, Text: text} }

// greeter is a chat consumer with a little state, like a real bot.
type greeter struct {
	consumer.Chat
	greeted bool
}

func (g *greeter) Message(ctx context.Context, m consumer.ChatMessage) error {
	if g.greeted {
		return nil
	}
	g.greeted = true
	return g.Reply(ctx, "hi")
}

type discard struct{}

func (discard) Send(context.Context, *scope.Scope, event.Event) error { return nil }
func (discard) Disconnect(*scope.Scope, scope.Reason) scope.Final     { return bye{} }

// BenchmarkIdleChatScopes holds b.N chat conversations live and idle, each
// with a consumer instance that handled one message, and reports the heap
// each one costs. Run with -benchtime=1000000x for the million-scope figure.
func BenchmarkIdleChatScopes(b *testing.B) {
	app := consumer.New(func() *greeter { return new(greeter) }, consumer.OnMessage((*greeter).Message))
	m, err := scope.NewManager(app, discard{}, scope.Config{IdleTimeout: -1, MaxScopes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = strconv.Itoa(1_000_000_000 + i) // a chat id, like Telegram's
	}
	before := heapInUse()
	b.ResetTimer()
	ctx := context.Background()
	for i, k := range keys {
		chat := scope.Chat{ID: k, Type: "private"}
		err := m.Deliver(ctx, k, chatMsg{Chat: k, Text: "hello"}, func() *scope.Scope {
			return &scope.Scope{Type: "bench", Adapter: "bench", Chat: chat,
				User: scope.User{ID: k, Name: "User " + strconv.Itoa(i)}}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for !allIdle(m, keys) {
		runtime.Gosched()
	}
	after := heapInUse()
	runtime.KeepAlive(keys)
	b.ReportMetric(float64(after-before)/float64(b.N), "heap-B/scope")
	b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
	if m.Len() != b.N {
		b.Fatalf("Len = %d, want %d", m.Len(), b.N)
	}
}

func allIdle(m *scope.Manager, keys []string) bool {
	for i := len(keys) - 1; i >= 0; i -= max(1, len(keys)/64) {
		if !m.Idle(keys[i]) {
			return false
		}
	}
	return true
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkFanOut posts to many scopes from one goroutine, as a channel
// layer's receiver hands a group message to every member in the process,
// with handlers that use some stack, as a real bot's do (the consumer,
// the router, a WebSocket write). It reports the most goroutines seen
// while handlers ran.
func BenchmarkFanOut(b *testing.B) {
	const members = 2000
	var (
		handled atomic.Int64
		peak    atomic.Int64
		done    = make(chan struct{})
		target  atomic.Int64
	)
	target.Store(-1)
	app := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if _, ok := ev.(chatMsg); !ok {
				return nil
			}
			deep(24)
			if g, p := int64(runtime.NumGoroutine()), peak.Load(); g > p {
				peak.CompareAndSwap(p, g)
			}
			if handled.Add(1) == target.Load() {
				close(done)
			}
			return nil
		}), nil
	})
	m, err := scope.NewManager(app, discard{}, scope.Config{IdleTimeout: -1, MaxScopes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	keys := make([]string, members)
	for i := range keys {
		keys[i] = "member" + strconv.Itoa(i)
		if err := m.Deliver(ctx, keys[i], bye{}, func() *scope.Scope { return &scope.Scope{Type: "bench"} }); err != nil {
			b.Fatal(err)
		}
	}
	for !allIdle(m, keys) {
		runtime.Gosched()
	}
	b.ReportAllocs()
	b.ResetTimer()
	target.Store(int64(b.N))
	for i := range b.N {
		if err := m.Post(ctx, keys[i%members], chatMsg{Text: "hi"}); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(peak.Load()), "peak-goroutines")
}

// deep recurses n frames of about 300 bytes each: a handler's stack.
//
//go:noinline
func deep(n int) byte {
	var buf [256]byte
	buf[n%len(buf)] = byte(n)
	if n == 0 {
		return buf[0]
	}
	return deep(n-1) + buf[(n*7)%len(buf)]
}
