package consumer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// fancy is a chat message of a protocol of its own, with its own handler:
// Reply must answer it there too, not only under OnMessage.
type fancy struct{ consumertest.Message }

func (fancy) Type() string { return "chat.fancy" }

// news arrives from the channel layer: no message to answer.
type news struct {
	Text string `msgpack:"text"`
}

func (news) Type() string { return "test.news" }

type parrot struct {
	consumer.Chat
	replyErr error // what Reply returned under the news handler
}

func (p *parrot) Message(ctx context.Context, m event.ChatMessage) error {
	return p.Reply(ctx, "plain: "+m.ChatText())
}

func (p *parrot) Fancy(ctx context.Context, f fancy) error {
	return p.Reply(ctx, "fancy: "+f.Text)
}

func (p *parrot) News(ctx context.Context, n news) error {
	p.replyErr = p.Reply(ctx, "never sent")
	return p.Say(ctx, "news: "+n.Text)
}

func newParrot() *consumer.App[*parrot] {
	return consumer.New(func() *parrot { return new(parrot) },
		consumer.OnMessage((*parrot).Message), consumer.On((*parrot).Fancy), consumer.On((*parrot).News))
}

func TestReplyAnswersTheChatMessageWhicheverHandlerTakesIt(t *testing.T) {
	c := consumertest.NewChat(t, newParrot())
	c.Say("hi")
	if got := c.ReceiveReply(); got != (consumertest.Reply{To: 1, Text: "plain: hi"}) {
		t.Fatalf("OnMessage reply %+v", got)
	}
	c.Send(fancy{consumertest.Message{ID: 7, Text: "hello"}})
	if got := c.ReceiveReply(); got != (consumertest.Reply{To: 7, Text: "fancy: hello"}) {
		t.Fatalf("On(fancy) reply %+v", got)
	}
	c.End(scope.ReasonIdle)
}

func TestSayWorksWhereReplyCannot(t *testing.T) {
	var inst *parrot
	app := scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		i, err := newParrot().NewInstance(ctx, s, conn)
		inst, _ = i.(*parrot)
		return i, err
	})
	c := consumertest.NewChat(t, app)
	c.Say("first")
	c.ReceiveReply()
	// As a group message arrives, long after the last chat message.
	c.Send(news{Text: "rain"})
	if got := c.ReceiveSay(); got != "news: rain" {
		t.Fatalf("said %q", got)
	}
	c.End(scope.ReasonIdle)
	if !errors.Is(inst.replyErr, consumer.ErrNoMessage) {
		t.Fatalf("Reply outside a chat message returned %v, want ErrNoMessage", inst.replyErr)
	}
}

// The web page is a chat protocol: a chat consumer accepts the
// connection, answers text frames with text frames, and closes on a
// binary frame, without a line of WebSocket code.
func TestAChatConsumerServesTheWebPage(t *testing.T) {
	c := consumertest.NewWebSocket(t, newParrot(), "/chat/")
	if ok, _, _ := c.Connect(); !ok {
		t.Fatal("a chat consumer rejected a WebSocket connection")
	}
	c.SendText("hello")
	if got := c.ReceiveText(); got != "plain: hello" {
		t.Fatalf("got %q", got)
	}
	c.SendBytes([]byte{1, 2})
	if cl := consumertest.Receive[wsevent.Close](c.Communicator); cl.Code != wsevent.CloseUnsupported {
		t.Fatalf("binary frame: close code %d, want 1003", cl.Code)
	}
	c.Disconnect(wsevent.CloseNormal)
}

// greeterWS registers its own connect handler, which wins over the
// default.
type greeterWS struct{ consumer.Chat }

func (g *greeterWS) Connect(ctx context.Context, _ wsevent.Connect) error {
	return g.Send(ctx, wsevent.Close{Code: wsevent.ClosePolicy})
}

func (g *greeterWS) Message(ctx context.Context, m event.ChatMessage) error {
	return g.Reply(ctx, m.ChatText())
}

func TestAChatConsumersOwnConnectHandlerWins(t *testing.T) {
	app := consumer.New(func() *greeterWS { return new(greeterWS) },
		consumer.On((*greeterWS).Connect), consumer.OnMessage((*greeterWS).Message))
	c := consumertest.NewWebSocket(t, app, "/")
	if ok, _, code := c.Connect(); ok || code != wsevent.ClosePolicy {
		t.Fatalf("accepted %v, code %d: want the type's own rejection", ok, code)
	}
}

func TestHandlesProtocol(t *testing.T) {
	type want map[string]bool
	worker := consumer.New(func() *consumer.Base { return new(consumer.Base) },
		consumer.On(func(*consumer.Base, context.Context, news) error { return nil }))
	for _, tt := range []struct {
		name string
		app  interface{ HandlesProtocol(string) bool }
		want want
	}{
		{"chat consumer", newParrot(), want{"telegram": true, "slack": true, "irc": true, "websocket": true, "http": false, "channel": true}},
		{"echo-like chat consumer", consumer.New(func() *greeterWS { return new(greeterWS) }, consumer.OnMessage((*greeterWS).Message)),
			want{"telegram": true, "websocket": true, "http": false, "channel": false}},
		{"WebSocket consumer", newShout(), want{"websocket": true, "telegram": false, "http": false, "channel": true}},
		{"HTTP consumer", consumer.New(func() *upper { return new(upper) }, consumer.OnRequest((*upper).Serve)),
			want{"http": true, "websocket": false, "telegram": false}},
		{"worker", worker, want{"channel": true, "test": true, "telegram": false, "websocket": false}},
		{"WithLayer forwards", consumer.WithLayer(nil)(newShout()).(interface{ HandlesProtocol(string) bool }), want{"websocket": true, "telegram": false}},
	} {
		for p, w := range tt.want {
			if got := tt.app.HandlesProtocol(p); got != w {
				t.Errorf("%s: HandlesProtocol(%q) = %v, want %v", tt.name, p, got, w)
			}
		}
	}
}

// flaky is a layer whose first Receive fails, as a Redis that went away
// does; later ones wait for their context. retried is closed when the
// receive loop comes back for the second time, after it logged the
// failure.
// flaky is a layer whose receive fails once. It is no layer.Subscriber,
// so its consumers receive on a goroutine each, which retries.
type flaky struct {
	consumer.Layer // only NewChannel and Receive are called
	calls          int
	retried        chan struct{}
}

func (f *flaky) NewChannel(context.Context, string) (string, error) { return "specific.test", nil }

func (f *flaky) Receive(ctx context.Context, _ string) (event.Event, error) {
	f.calls++ // one receive loop: calls are sequential
	switch f.calls {
	case 1:
		return nil, errors.New("connection refused")
	case 2:
		close(f.retried)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

type chatterbox struct{ consumer.Chat }

func (c *chatterbox) Message(ctx context.Context, m event.ChatMessage) error {
	c.Logger().Info("heard", "text", m.ChatText())
	_, err := c.ChannelName(ctx)
	return err
}

func TestConsumersLogThroughTheInjectedLogger(t *testing.T) {
	l := &flaky{retried: make(chan struct{})}
	app := consumer.New(func() *chatterbox { return new(chatterbox) }, consumer.OnMessage((*chatterbox).Message))
	c := consumertest.NewChat(t, app, consumertest.WithLayer(l))
	c.Say("psst")
	<-l.retried
	c.End(scope.ReasonIdle)
	logs := c.Logs()
	for _, want := range []string{
		`msg=heard scope=chat:test text=psst`,
		`msg="consumer: layer receive failed; retrying" scope=chat:test channel=specific.test err="connection refused"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}
