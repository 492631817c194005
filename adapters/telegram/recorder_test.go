package telegram_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// recorder is an application that records what its instances see, and
// lets a test hold a chat's handler back.
type recorder struct {
	instances atomic.Int64
	mu        sync.Mutex
	changed   chan struct{}
	texts     map[string]int          // message text → times handled
	order     map[int64][]string      // chat → texts in handling order
	events    []event.Event           // every event, in handling order
	scopes    map[string]*scope.Scope // key → the scope of its first instance
	gates     map[int64]chan struct{} // chat → closed to let its handler go on
	reply     bool                    // answer each message with "re: <text>"
	sendErrs  map[int64][]error       // chat → errors of its replies; the handler goes on
}

func newRecorder() *recorder {
	return &recorder{changed: make(chan struct{}), texts: map[string]int{}, order: map[int64][]string{},
		scopes: map[string]*scope.Scope{}, gates: map[int64]chan struct{}{}, sendErrs: map[int64][]error{}}
}

// hold makes chat's handler wait until the returned function is called.
func (r *recorder) hold(chat int64) (release func()) {
	g := make(chan struct{})
	r.mu.Lock()
	r.gates[chat] = g
	r.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(g) }) }
}

func (r *recorder) NewInstance(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	r.instances.Add(1)
	r.mu.Lock()
	if _, ok := r.scopes[s.Key]; !ok {
		r.scopes[s.Key] = s
	}
	r.mu.Unlock()
	return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		var chat int64
		var text string
		if m, ok := ev.(telegram.Message); ok {
			chat, text = m.Chat.ID, m.Text
		}
		r.mu.Lock()
		gate := r.gates[chat]
		r.mu.Unlock()
		if gate != nil && text != "" {
			<-gate
		}
		var err error
		if m, ok := ev.(telegram.Message); ok && r.reply {
			err = conn.Send(ctx, m.ChatReply("re: "+m.Text))
		}
		r.mu.Lock()
		r.events = append(r.events, ev)
		if text != "" {
			r.texts[text]++
			r.order[chat] = append(r.order[chat], text)
		}
		if err != nil {
			r.sendErrs[chat] = append(r.sendErrs[chat], err)
		}
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
		return nil
	}), nil
}

// await waits until cond holds, checked under the recorder's lock after
// every event.
func (r *recorder) await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(wait)
	r.mu.Lock()
	defer r.mu.Unlock()
	for !cond() {
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
			r.mu.Lock()
		case <-deadline:
			r.mu.Lock()
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// handled returns how many distinct texts were handled.
func (r *recorder) handledLocked() int { return len(r.texts) }
