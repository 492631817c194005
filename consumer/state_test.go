package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

type count struct{ N int }

// tally replies "#n" to the n-th message of its conversation; "peek"
// replies with the count without counting.
type tally struct {
	consumer.Chat
	consumer.Stateful[count]
	before func() // called in the handler after the state was loaded
}

func (c *tally) Message(ctx context.Context, m event.ChatMessage) error {
	if c.before != nil {
		c.before()
	}
	if m.ChatText() != "peek" {
		c.State().N++
	}
	if m.ChatText() == "fail" {
		return errors.New("failed on purpose")
	}
	return c.Reply(ctx, fmt.Sprintf("#%d", c.State().N))
}

func newTally(before func()) *consumer.App[*tally] {
	return consumer.New(func() *tally { return &tally{before: before} }, consumer.OnMessage((*tally).Message))
}

// countingStore counts the calls a store gets.
type countingStore struct {
	session.Store
	loads, saves atomic.Int64
}

func (s *countingStore) Load(ctx context.Context, key string) (session.Record, error) {
	s.loads.Add(1)
	return s.Store.Load(ctx, key)
}

func (s *countingStore) Save(ctx context.Context, key string, data []byte, v uint64, ttl time.Duration) (uint64, error) {
	s.saves.Add(1)
	return s.Store.Save(ctx, key, data, v, ttl)
}

func TestStateOutlivesTheScope(t *testing.T) {
	app := newTally(nil) // no session middleware: the app's own memory store
	c := consumertest.NewChat(t, app)
	for want := 1; want <= 2; want++ {
		c.Say("hi")
		if got := c.ReceiveReply().Text; got != fmt.Sprintf("#%d", want) {
			t.Fatalf("reply %q; want #%d", got, want)
		}
	}
	c.End(scope.ReasonIdle)

	again := consumertest.NewChat(t, app)
	again.Say("hi")
	if got := again.ReceiveReply().Text; got != "#3" {
		t.Fatalf("after the scope ended the count went on with %q; want #3", got)
	}
}

func TestStateSavedOnlyWhenChanged(t *testing.T) {
	st := &countingStore{Store: memory.New()}
	app := session.Middleware(st, session.WithTTL(time.Hour))(newTally(nil))
	c := consumertest.NewChat(t, app)
	c.Say("hi")
	c.ReceiveReply()
	c.Say("peek")
	if got := c.ReceiveReply().Text; got != "#1" {
		t.Fatalf("peek = %q", got)
	}
	c.Say("peek")
	c.ReceiveReply()
	if l, s := st.loads.Load(), st.saves.Load(); l != 3 || s != 1 {
		t.Fatalf("3 events, one changing: %d loads, %d saves; want 3, 1", l, s)
	}
}

func TestStateNotSavedWhenTheHandlerFails(t *testing.T) {
	st := memory.New()
	app := session.Middleware(st)(newTally(nil))
	c := consumertest.NewChat(t, app)
	c.Say("hi")
	c.ReceiveReply()
	c.Say("fail")
	c.WaitEnded()
	again := consumertest.NewChat(t, app)
	again.Say("peek")
	if got := again.ReceiveReply().Text; got != "#1" {
		t.Fatalf("after a failed handler the count is %q; want #1", got)
	}
}

// TestStateConflictRunsTheHandlerAgain: two instances of one conversation
// (two processes) count at once. The one whose save loses loads the other's
// count, runs again and replies once, with the count it saved.
func TestStateConflictRunsTheHandlerAgain(t *testing.T) {
	st := memory.New()
	loaded, proceed := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	slow := session.Middleware(st)(newTally(func() {
		if first.Swap(false) {
			close(loaded)
			<-proceed
		}
	}))
	fast := session.Middleware(st)(newTally(nil))

	a := consumertest.NewChat(t, slow)
	b := consumertest.NewChat(t, fast)
	a.Say("hi") // loads 0, then waits
	<-loaded
	b.Say("hi") // saves 1
	if got := b.ReceiveReply().Text; got != "#1" {
		t.Fatalf("fast = %q", got)
	}
	close(proceed) // a's save of 1 conflicts; it runs again from 1
	if got := a.ReceiveReply().Text; got != "#2" {
		t.Fatalf("slow = %q; want #2 (its first run's reply dropped with its lost save)", got)
	}
	a.ReceiveNothing()
	b.Say("peek")
	if got := b.ReceiveReply().Text; got != "#2" {
		t.Fatalf("count = %q; want #2: an update was lost", got)
	}
}

// prefs is a state type that cannot be compared as it is: it is compared
// by its encoding.
type prefs struct {
	Tags map[string]int `json:"tags"`
}

type tagger struct {
	consumer.Chat
	consumer.Stateful[prefs]
}

func (g *tagger) Message(ctx context.Context, m event.ChatMessage) error {
	if m.ChatText() != "peek" {
		if g.State().Tags == nil {
			g.State().Tags = map[string]int{}
		}
		g.State().Tags[m.ChatText()]++
	}
	return g.Reply(ctx, fmt.Sprint(g.State().Tags))
}

func TestStateOfAMap(t *testing.T) {
	st := &countingStore{Store: memory.New()}
	app := session.Middleware(st)(consumer.New(func() *tagger { return new(tagger) }, consumer.OnMessage((*tagger).Message)))
	c := consumertest.NewChat(t, app)
	c.Say("go")
	c.ReceiveReply()
	c.Say("go")
	c.ReceiveReply()
	c.End(scope.ReasonEvicted)
	again := consumertest.NewChat(t, app)
	again.Say("peek")
	if got := again.ReceiveReply().Text; got != "map[go:2]" {
		t.Fatalf("state = %s", got)
	}
	if s := st.saves.Load(); s != 2 {
		t.Fatalf("%d saves; want 2 (the peek changed nothing)", s)
	}
}

// valueStore records how a session.ValueStore is written to.
type valueStore struct {
	*memory.Store
	values, saves atomic.Int64
	key           atomic.Value // the last key written
}

func (s *valueStore) SaveValue(ctx context.Context, key string, v any, enc func(any) ([]byte, error), ver uint64, ttl time.Duration) (uint64, any, error) {
	s.values.Add(1)
	s.key.Store(key)
	return s.Store.SaveValue(ctx, key, v, enc, ver, ttl)
}

func (s *valueStore) Save(ctx context.Context, key string, data []byte, ver uint64, ttl time.Duration) (uint64, error) {
	s.saves.Add(1)
	return s.Store.Save(ctx, key, data, ver, ttl)
}

// TestStateKeptAsAValue: on the memory store a plain state is kept as
// the value it is, not encoded, and a Load that asks for its bytes (the
// session middleware's, another process's reader) gets the same encoding
// a byte store would have been given.
func TestStateKeptAsAValue(t *testing.T) {
	st := &valueStore{Store: memory.New()}
	app := session.Middleware(st)(newTally(nil))
	c := consumertest.NewChat(t, app)
	for want := 1; want <= 2; want++ {
		c.Say("hi")
		if got := c.ReceiveReply().Text; got != fmt.Sprintf("#%d", want) {
			t.Fatalf("reply %q; want #%d", got, want)
		}
	}
	if v, s := st.values.Load(), st.saves.Load(); v != 2 || s != 0 {
		t.Fatalf("2 changes saved as %d values and %d encodings; want 2 values", v, s)
	}
	rec, err := st.Load(t.Context(), st.key.Load().(string))
	if err != nil {
		t.Fatal(err)
	}
	var got count
	if err := msgpack.Unmarshal(rec.Data, &got); err != nil || got.N != 2 {
		t.Fatalf("Load's data %x decodes to %+v, %v; want N 2", rec.Data, got, err)
	}

	// A byte store sees the same state from those bytes.
	bytesOnly := &countingStore{Store: memory.New()}
	if _, err := bytesOnly.Save(t.Context(), st.key.Load().(string), rec.Data, 0, 0); err != nil {
		t.Fatal(err)
	}
	again := consumertest.NewChat(t, session.Middleware(bytesOnly)(newTally(nil)))
	again.Say("peek")
	if got := again.ReceiveReply().Text; got != "#2" {
		t.Fatalf("a byte store holding the encoding counts %q; want #2", got)
	}
}
