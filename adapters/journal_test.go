package adapters_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// journal is a Journal in memory: it keeps what is appended and hands it
// to the attached sink when the test says.
type journal struct {
	appended chan adapters.Record
	refuse   error // Append's error, if any
	sink     chan adapters.Sink
	detached chan struct{}
}

func newJournal() *journal {
	return &journal{appended: make(chan adapters.Record, 10), sink: make(chan adapters.Sink, 1), detached: make(chan struct{})}
}

func (j *journal) Append(_ context.Context, r adapters.Record) error {
	if j.refuse != nil {
		return j.refuse
	}
	j.appended <- r
	return nil
}

func (j *journal) Attach(_ string, s adapters.Sink) func(context.Context) {
	j.sink <- s
	return func(context.Context) { close(j.detached) }
}

// portable is the fake adapter, opted in to journals.
type portable struct{ *fake }

func (portable) DecodeInbound(m event.Message) (event.Event, error) { return event.Decode[note](m) }

// uniqueNote carries a platform id.
type uniqueNote struct{ note }

func (uniqueNote) UniqueID() string { return "u1" }

// With a journal, Deliver appends and acknowledges at once, and the sink
// the Host attached serves what the journal hands back, in the adapter's
// types; Run detaches before it returns.
func TestDeliverAppendsToTheJournal(t *testing.T) {
	j := newJournal()
	f := newFake()
	h := adapters.NewHost(portable{f}, quiet(), adapters.WithJournal(j))
	ap := newApp(nil)
	r := run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	sink := recv(t, j.sink)

	acked := make(chan error, 1)
	if err := in.Deliver(context.Background(), "k", uniqueNote{note{"hi"}}, newScope, func(err error) { acked <- err }); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, acked); err != nil {
		t.Fatalf("ack %v, want nil once appended", err)
	}
	rec := recv(t, j.appended)
	if rec.Adapter != "fake" || rec.Key != "k" || rec.Scope.Key != "k" || rec.ID != "u1" {
		t.Fatalf("appended %+v", rec)
	}
	select {
	case h := <-ap.seen:
		t.Fatalf("handled %+v before the journal handed it back", h)
	default:
	}

	ev, err := event.ToMessage(note{"hi"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := sink.Decode(ev)
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan error, 1)
	if err := sink.Deliver(context.Background(), "k", back, newScope, func(err error) { handled <- err }); err != nil {
		t.Fatal(err)
	}
	if got := ap.next(t); got.key != "k" || got.text != "hi" {
		t.Fatalf("handled %+v", got)
	}
	if err := recv(t, handled); err != nil {
		t.Fatal(err)
	}
	sink.Moved(func(key string) bool { return key == "k" })
	if got := ap.next(t); got.reason != adapters.ReasonMoved {
		t.Fatalf("after Moved: %+v, want the final event with reason moved", got)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = r.wait(t)
	recv(t, j.detached)
}

// What cannot travel, and adapters that did not opt in, are served in the
// process that took them.
func TestJournalFallsBackToLocal(t *testing.T) {
	for name, c := range map[string]struct {
		a      func(*fake) adapters.Adapter
		refuse error
	}{
		"not an InboundDecoder": {a: func(f *fake) adapters.Adapter { return f }},
		"not durable":           {a: func(f *fake) adapters.Adapter { return portable{f} }, refuse: adapters.ErrNotDurable},
	} {
		t.Run(name, func(t *testing.T) {
			j := newJournal()
			j.refuse = c.refuse
			f := newFake()
			h := adapters.NewHost(c.a(f), quiet(), adapters.WithJournal(j))
			ap := newApp(nil)
			run(t, context.Background(), h, ap)
			in := recv(t, f.intake)
			if err := in.Deliver(context.Background(), "k", note{"hi"}, newScope, nil); err != nil {
				t.Fatal(err)
			}
			if got := ap.next(t); got.text != "hi" {
				t.Fatalf("handled %+v", got)
			}
			if len(j.appended) != 0 {
				t.Fatal("appended")
			}
			if _, portable := c.a(f).(adapters.InboundDecoder); portable {
				return
			}
			// Conversations the journal never carried stay here when
			// a partition moves: the scope is not ended.
			recv(t, j.sink).Moved(func(string) bool { return true })
			if err := in.Deliver(context.Background(), "k", note{"again"}, newScope, nil); err != nil {
				t.Fatal(err)
			}
			if got := ap.next(t); got.text != "again" || got.reason != "" {
				t.Fatalf("after Moved: %+v, want the next note in the same scope", got)
			}
		})
	}
}

// A journal's failure to append is Deliver's: nothing is acknowledged.
func TestJournalFailureIsNotAcknowledged(t *testing.T) {
	j := newJournal()
	j.refuse = errors.New("redis down")
	f := newFake()
	h := adapters.NewHost(portable{f}, quiet(), adapters.WithJournal(j))
	run(t, context.Background(), h, newApp(nil))
	in := recv(t, f.intake)
	err := in.Deliver(context.Background(), "k", note{"hi"}, newScope, func(error) { t.Error("acknowledged") })
	if err == nil || err.Error() != "redis down" {
		t.Fatalf("Deliver: %v, want the journal's error", err)
	}
}

// slowJournal holds each append until the test releases it.
type slowJournal struct {
	*journal
	release chan struct{}
}

func (j slowJournal) Append(ctx context.Context, r adapters.Record) error {
	<-j.release
	return j.journal.Append(ctx, r)
}

// TryDeliver appends in the background, each conversation in order, and
// acknowledges once appended; a failed append is not acknowledged.
func TestTryDeliverAppendsInOrder(t *testing.T) {
	j := slowJournal{journal: newJournal(), release: make(chan struct{})}
	f := newFake()
	h := adapters.NewHost(portable{f}, quiet(), adapters.WithJournal(j))
	run(t, context.Background(), h, newApp(nil))
	in := recv(t, f.intake)
	acked := make(chan string, 3)
	for _, text := range []string{"1", "2", "3"} {
		if err := in.TryDeliver("k", note{text}, newScope, func(err error) {
			if err != nil {
				t.Errorf("ack of %s: %v", text, err)
			}
			acked <- text
		}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case a := <-acked:
		t.Fatalf("%s acknowledged before it was appended", a)
	default:
	}
	for _, want := range []string{"1", "2", "3"} {
		j.release <- struct{}{}
		if got := recv(t, j.appended).Event.(note).Text; got != want {
			t.Fatalf("appended %s, want %s", got, want)
		}
		if got := recv(t, acked); got != want {
			t.Fatalf("acknowledged %s, want %s", got, want)
		}
	}

	j.journal.refuse = errors.New("redis down")
	failed := make(chan error, 1)
	if err := in.TryDeliver("k", note{"4"}, newScope, func(err error) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	j.release <- struct{}{}
	if err := recv(t, failed); !errors.Is(err, scope.ErrNotHandled) {
		t.Fatalf("ack %v, want ErrNotHandled", err)
	}
}

// batchJournal takes TryDeliver's appends in batches; it holds each batch
// until the test releases it, fails the records of text "fail" and cannot
// carry those of text "local".
type batchJournal struct {
	*journal
	batches chan []string
	release chan struct{}
}

func (j batchJournal) AppendBatch(_ context.Context, rs []adapters.Record, errs []error) {
	texts := make([]string, len(rs))
	for i, r := range rs {
		texts[i] = r.Event.(note).Text
	}
	j.batches <- texts
	<-j.release
	for i, r := range rs {
		switch texts[i] {
		case "fail":
			errs[i] = errors.New("redis down")
		case "local":
			errs[i] = adapters.ErrNotDurable
		default:
			j.appended <- r
		}
	}
}

// With a BatchJournal, what TryDeliver is given while a batch is under way
// goes in the next batch, in order; each event is acknowledged once its
// batch is appended, in order, a failed one is not, and one that cannot
// travel is served here.
func TestTryDeliverAppendsInBatches(t *testing.T) {
	j := batchJournal{journal: newJournal(), batches: make(chan []string, 3), release: make(chan struct{})}
	f := newFake()
	h := adapters.NewHost(portable{f}, quiet(), adapters.WithJournal(j))
	ap := newApp(nil)
	run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	acks := make(chan string, 10)
	deliver := func(text string) {
		t.Helper()
		if err := in.TryDeliver("k", note{text}, newScope, func(err error) {
			if err != nil {
				text += ": " + err.Error()
			}
			acks <- text
		}); err != nil {
			t.Fatal(err)
		}
	}
	deliver("1")
	if got := recv(t, j.batches); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("first batch %v", got)
	}
	for _, text := range []string{"2", "fail", "3", "local"} {
		deliver(text)
	}
	select {
	case a := <-acks:
		t.Fatalf("%s acknowledged before its batch was appended", a)
	default:
	}
	j.release <- struct{}{}
	if got := recv(t, acks); got != "1" {
		t.Fatalf("acknowledged %q, want 1", got)
	}
	if got := recv(t, j.batches); !slices.Equal(got, []string{"2", "fail", "3", "local"}) {
		t.Fatalf("second batch %v, want the events given meanwhile, in order", got)
	}
	j.release <- struct{}{}
	for _, want := range []string{"2", "fail: " + scope.ErrNotHandled.Error() + ": redis down", "3"} {
		if got := recv(t, acks); got != want {
			t.Fatalf("acknowledged %q, want %q", got, want)
		}
	}
	if got := ap.next(t); got.text != "local" {
		t.Fatalf("handled %+v, want the event that cannot travel", got)
	}
	if got := recv(t, acks); got != "local" {
		t.Fatalf("acknowledged %q, want local once handled", got)
	}
	for _, want := range []string{"1", "2", "3"} {
		if got := recv(t, j.appended).Event.(note).Text; got != want {
			t.Fatalf("appended %s, want %s", got, want)
		}
	}
}
