package consumer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	httpevent "github.com/switchboard-bots/switchboard/event/http"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// shout answers each text frame in capitals.
type shout struct {
	consumer.WebSocket
	count int
}

func (s *shout) Receive(ctx context.Context, r wsevent.Receive) error {
	s.count++
	return s.SendText(ctx, strings.ToUpper(r.Text))
}

func newShout() *consumer.App[*shout] {
	return consumer.New(func() *shout { return new(shout) }, consumer.On((*shout).Receive))
}

type nopConn struct{ sent []event.Event }

func (c *nopConn) Send(_ context.Context, ev event.Event) error {
	c.sent = append(c.sent, ev)
	return nil
}
func (c *nopConn) Post(context.Context, event.Event) error { return nil }

func TestTypedAndGenericEventsReachTheSameHandler(t *testing.T) {
	c := consumertest.NewWebSocket(t, newShout(), "/shout/")
	if ok, _, _ := c.Connect(); !ok {
		t.Fatal("a WebSocket consumer without a connect handler must accept")
	}
	c.SendText("typed")
	if got := c.ReceiveText(); got != "TYPED" {
		t.Fatalf("got %q", got)
	}
	// As it arrives from a channel layer of another process.
	c.Send(event.Message{"type": "websocket.receive", "text": "generic"})
	if got := c.ReceiveText(); got != "GENERIC" {
		t.Fatalf("got %q", got)
	}
	c.Disconnect(wsevent.CloseNormal)
}

func TestUnknownEventNamesTheType(t *testing.T) {
	conn := &nopConn{}
	inst, err := newShout().NewInstance(context.Background(), &scope.Scope{Type: "websocket"}, conn)
	if err != nil {
		t.Fatal(err)
	}
	err = inst.Handle(context.Background(), httpevent.Request{})
	var unknown *consumer.UnknownEventError
	if !errors.As(err, &unknown) || unknown.Type != "http.request" || !errors.Is(err, consumer.ErrUnknownEvent) {
		t.Fatalf("got %v, want an UnknownEventError for http.request", err)
	}
	if !strings.Contains(err.Error(), `"http.request"`) || !strings.Contains(err.Error(), "shout") {
		t.Fatalf("error %q does not name the event type and consumer", err)
	}
	// A final event needs no handler.
	if err := inst.Handle(context.Background(), wsevent.Disconnect{Code: 1000}); err != nil {
		t.Fatalf("final event: %v", err)
	}
}

func TestEachScopeHasItsOwnInstance(t *testing.T) {
	app := newShout()
	a := consumertest.NewWebSocket(t, app, "/a/")
	b := consumertest.NewWebSocket(t, app, "/b/")
	a.Connect()
	b.Connect()
	a.SendText("x")
	a.ReceiveText()
	a.SendText("y")
	a.ReceiveText()
	b.SendText("z")
	b.ReceiveText()
	// count is per instance: read it through a third event type? Compare
	// via the instances themselves.
	conn := &nopConn{}
	i1, _ := app.NewInstance(context.Background(), &scope.Scope{}, conn)
	i2, _ := app.NewInstance(context.Background(), &scope.Scope{}, conn)
	if i1 == i2 {
		t.Fatal("NewInstance returned one instance twice")
	}
	_ = i1.Handle(context.Background(), wsevent.Receive{Text: "q"})
	if i1.(*shout).count != 1 || i2.(*shout).count != 0 {
		t.Fatal("instances share state")
	}
}

func TestWiringMistakesPanic(t *testing.T) {
	mustPanic := func(name, want string, f func()) {
		t.Helper()
		defer func() {
			v := recover()
			if v == nil || !strings.Contains(v.(string), want) {
				t.Errorf("%s: panic %v, want one mentioning %q", name, v, want)
			}
		}()
		f()
	}
	mustPanic("duplicate", `"websocket.receive"`, func() {
		consumer.New(func() *shout { return new(shout) }, consumer.On((*shout).Receive), consumer.On((*shout).Receive))
	})
	mustPanic("interface", "OnMessage", func() {
		consumer.On(func(*shout, context.Context, event.ChatMessage) error { return nil })
	})
}

type jsonBot struct{ consumer.WebSocket }

type greeting struct {
	Name string `json:"name"`
}

func (j *jsonBot) Greet(ctx context.Context, g greeting) error {
	return j.SendJSON(ctx, map[string]string{"hello": g.Name})
}

func TestOnJSON(t *testing.T) {
	app := consumer.New(func() *jsonBot { return new(jsonBot) }, consumer.OnJSON((*jsonBot).Greet))
	c := consumertest.NewWebSocket(t, app, "/json/")
	c.Connect()
	c.SendJSON(greeting{Name: "Ada"})
	var got map[string]string
	c.ReceiveJSON(&got)
	if got["hello"] != "Ada" {
		t.Fatalf("got %v", got)
	}
	c.SendText("{not json")
	if cl := consumertest.Receive[wsevent.Close](c.Communicator); cl.Code != wsevent.CloseInvalidPayload {
		t.Fatalf("close code %d, want 1007", cl.Code)
	}
	if end := c.WaitEnded(); end.Reason != scope.ReasonError {
		t.Fatalf("ended %+v", end)
	}
	if !strings.Contains(c.Logs(), "malformed JSON frame") {
		t.Fatalf("log does not say what was wrong:\n%s", c.Logs())
	}
}

type upper struct{ consumer.HTTP }

func (u *upper) Serve(ctx context.Context, body []byte) error {
	return u.Respond(ctx, 200, map[string][]string{"Content-Type": {"text/plain"}},
		[]byte(u.Scope().Method+" "+u.Scope().Path+" "+strings.ToUpper(string(body))))
}

func TestHTTPGetsTheWholeBody(t *testing.T) {
	app := consumer.New(func() *upper { return &upper{HTTP: consumer.HTTP{MaxBody: 8}} }, consumer.OnRequest((*upper).Serve))
	resp := consumertest.HTTPRequest(t, app, "POST", "/up?x=1", nil, []byte("abc"))
	if resp.Status != 200 || string(resp.Body) != "POST /up ABC" {
		t.Fatalf("got %d %q", resp.Status, resp.Body)
	}

	c := consumertest.New(t, app, &scope.Scope{Type: "http", Method: "PUT", Path: "/chunks"})
	c.Send(httpevent.Request{Body: []byte("ab"), MoreBody: true})
	c.Send(httpevent.Request{Body: []byte("cd")})
	consumertest.Receive[httpevent.ResponseStart](c)
	if b := consumertest.Receive[httpevent.ResponseBody](c); string(b.Body) != "PUT /chunks ABCD" {
		t.Fatalf("got %q", b.Body)
	}

	big := consumertest.HTTPRequest(t, app, "POST", "/up", nil, []byte("123456789"))
	if big.Status != 413 {
		t.Fatalf("oversized body: status %d, want 413", big.Status)
	}
}

type chatty struct{ consumer.Chat }

func TestReplyOutsideAMessageHandler(t *testing.T) {
	app := consumer.New(func() *chatty { return new(chatty) })
	inst, _ := app.NewInstance(context.Background(), &scope.Scope{}, &nopConn{})
	if err := inst.(*chatty).Reply(context.Background(), "hi"); !errors.Is(err, consumer.ErrNoMessage) {
		t.Fatalf("got %v, want ErrNoMessage", err)
	}
}
