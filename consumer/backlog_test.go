package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/scope"
)

// slow joins the group "fan" and then blocks in its first counted
// message until release is closed, recording what it handles.
type slow struct {
	consumer.Base
	joined  chan struct{}
	started chan struct{} // a counted message is being handled
	release chan struct{}
	got     chan string
}

func (s *slow) Join(ctx context.Context, _ join) error {
	if err := s.GroupAdd(ctx, "fan"); err != nil {
		return err
	}
	close(s.joined)
	return nil
}

func (s *slow) Counted(_ context.Context, c counted) error {
	s.started <- struct{}{}
	<-s.release
	s.got <- c.Text
	return nil
}

// TestFullInboxBacklogKeepsOrderAndCountsWhatItDrops fills a member's
// inbox (one event) and its backlog (three), and checks that what waits in
// the backlog arrives in order once the member catches up, while what did
// not fit is dropped, counted and logged with reason backlog_full.
func TestFullInboxBacklogKeepsOrderAndCountsWhatItDrops(t *testing.T) {
	const backlog, extra = 3, 2
	l := memoryLayer(t)
	logs, obs := new(logtest.Buffer), new(drops)
	s := &slow{joined: make(chan struct{}), started: make(chan struct{}, 10), release: make(chan struct{}), got: make(chan string, 10)}
	app := consumer.WithLogger(logs.Logger())(consumer.WithLayer(l, consumer.ObserveDrops(obs), consumer.Backlog(backlog))(
		consumer.New(func() *slow { return s }, consumer.On((*slow).Join), consumer.On((*slow).Counted))))
	m, err := scope.NewManager(app, fanAdapter{}, scope.Config{IdleTimeout: -1, InboxSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	ctx := context.Background()
	if err := m.Deliver(ctx, "k", join{}, func() *scope.Scope { return &scope.Scope{Type: "fanout", Key: "k"} }); err != nil {
		t.Fatal(err)
	}
	<-s.joined
	// 0 is handled (and blocks), 1 fills the inbox, 2..4 the backlog,
	// 5 and 6 are dropped. The in-memory layer delivers on this
	// goroutine, so all of it has happened when GroupSend returns.
	total := 2 + backlog + extra
	for i := range total {
		if err := l.GroupSend(ctx, "fan", counted{Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// The handler must have taken 0 off the inbox before 1
			// fills it; it blocks until release.
			<-s.started
		}
	}
	if got := obs.counts()["fanout.counted backlog_full"]; got != extra {
		t.Fatalf("counted %d drops, want %d: %v", got, extra, obs.counts())
	}
	logs.Await(t, "reason=backlog_full", 10*time.Second)
	close(s.release)
	for i := range 2 + backlog {
		select {
		case text := <-s.got:
			if text != fmt.Sprint(i) {
				t.Fatalf("handled %q, want %d", text, i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("handled %d of %d", i, 2+backlog)
		}
	}
	select {
	case text := <-s.got:
		t.Fatalf("handled %q, which was dropped", text)
	default:
	}
}

// allSender joins the group "fan" and, told to, sends to it all or
// nothing, reporting the error.
type allSender struct {
	consumer.Base
	errs chan error
}

func (a *allSender) Join(ctx context.Context, _ join) error { return a.GroupAdd(ctx, "fan") }

func (a *allSender) Counted(ctx context.Context, c counted) error {
	a.errs <- a.GroupSendAll(ctx, "full", c)
	return nil
}

// TestGroupSendAllFailsWhenAMemberIsFull checks that a consumer can ask
// for a group send that fails, with an error wrapping ErrChannelFull,
// rather than skip a member whose channel is full.
func TestGroupSendAllFailsWhenAMemberIsFull(t *testing.T) {
	l, err := memory.New(layer.Config{Capacity: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.GroupAdd(ctx, "full", "stuck"); err != nil {
		t.Fatal(err)
	}
	if err := l.Send(ctx, "stuck", counted{Text: "first"}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	c := consumertest.New(t, consumer.New(func() *allSender { return &allSender{errs: errs} },
		consumer.On((*allSender).Counted)), &scope.Scope{Type: "fanout"}, consumertest.WithLayer(l))
	c.Send(counted{Text: "second"})
	select {
	case err := <-errs:
		if !errors.Is(err, layer.ErrChannelFull) {
			t.Fatalf("GroupSendAll to a full member: %v, want ErrChannelFull", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not run")
	}
}

// downLayer fails every group send.
type downLayer struct{ consumer.Layer }

var errDown = errors.New("layer down")

func (downLayer) GroupSend(context.Context, string, event.Event) error { return errDown }

// queuer queues a group send for every counted message it handles,
// reporting what QueueGroupSend returned.
type queuer struct {
	consumer.Base
	errs chan error
}

func (q *queuer) Counted(ctx context.Context, c counted) error {
	q.errs <- q.QueueGroupSend(ctx, "fan", c)
	return nil
}

// TestQueuedGroupSendThatFailsIsCountedAndLogged checks that a group send
// queued with QueueGroupSend that fails is not lost silently: it reaches
// the DropObserver with reason send_failed and is logged at warn.
func TestQueuedGroupSendThatFailsIsCountedAndLogged(t *testing.T) {
	logs, obs := new(logtest.Buffer), new(drops)
	errs := make(chan error, 1)
	app := consumer.WithLogger(logs.Logger())(consumer.WithLayer(downLayer{memoryLayer(t)}, consumer.ObserveDrops(obs))(
		consumer.New(func() *queuer { return &queuer{errs: errs} }, consumer.On((*queuer).Counted))))
	c := consumertest.New(t, app, &scope.Scope{Type: "fanout"})
	c.Send(counted{Text: "lost"})
	select {
	case err := <-errs:
		if err != nil {
			t.Fatalf("QueueGroupSend: %v, want nil (the send failed after it was queued)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not run")
	}
	if got := obs.counts()["fanout.counted send_failed"]; got != 1 {
		t.Errorf("counted %v, want one fanout.counted send_failed", obs.counts())
	}
	logs.Await(t, "reason=send_failed", 10*time.Second)
	if !strings.Contains(logs.String(), errDown.Error()) {
		t.Errorf("the warning does not say why: %s", logs.String())
	}
}
