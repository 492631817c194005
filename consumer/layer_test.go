package consumer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

// said is what room members tell each other through the layer.
type said struct {
	Text string `msgpack:"text"`
}

func (said) Type() string { return "room.said" }

// member joins the room on connect and relays what it is told.
type member struct{ consumer.WebSocket }

func (m *member) Connect(ctx context.Context, _ wsevent.Connect) error {
	if err := m.GroupAdd(ctx, "room"); err != nil {
		return err
	}
	return m.Accept(ctx, "")
}

func (m *member) Receive(ctx context.Context, r wsevent.Receive) error {
	return m.GroupSend(ctx, "room", said{Text: r.Text})
}

func (m *member) Said(ctx context.Context, s said) error {
	return m.SendText(ctx, "room: "+s.Text)
}

func newMember() *consumer.App[*member] {
	return consumer.New(func() *member { return new(member) },
		consumer.On((*member).Connect), consumer.On((*member).Receive), consumer.On((*member).Said))
}

func newLayer(t *testing.T) *memory.Layer {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestGroupMessagesReachHandlersAndGroupsAreLeftAtTheEnd(t *testing.T) {
	l := newLayer(t)
	app := newMember()
	a := consumertest.NewWebSocket(t, app, "/room/", consumertest.WithLayer(l))
	b := consumertest.NewWebSocket(t, app, "/room/", consumertest.WithLayer(l))
	a.Connect()
	b.Connect()

	a.SendText("hi")
	for _, c := range []*consumertest.WebSocket{a, b} {
		if got := c.ReceiveText(); got != "room: hi" {
			t.Fatalf("got %q", got)
		}
	}
	// A message from another process arrives in generic form.
	if err := l.GroupSend(context.Background(), "room", event.Message{"type": "room.said", "text": "from afar"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*consumertest.WebSocket{a, b} {
		if got := c.ReceiveText(); got != "room: from afar" {
			t.Fatalf("got %q", got)
		}
	}

	a.Disconnect(wsevent.CloseNormal)
	b.SendText("bye")
	if got := b.ReceiveText(); got != "room: bye" {
		t.Fatalf("got %q", got)
	}
	a.ReceiveNothing()
}

func TestNoLayer(t *testing.T) {
	c := consumertest.NewWebSocket(t, newMember(), "/room/")
	c.Send(wsevent.Connect{})
	if end := c.WaitEnded(); end.Reason != "error" {
		t.Fatalf("ended %+v", end)
	}
	if want := "no channel layer configured"; !strings.Contains(c.Logs(), want) {
		t.Fatalf("log lacks %q:\n%s", want, c.Logs())
	}
}
