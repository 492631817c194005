package websocket_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestGracefulShutdown(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	p := newProbe()
	joined := make(chan struct{}, 1)
	ws := router.NewPathRouter()
	ws.Handle("/ws/", p.app())
	polls := router.NewPathRouter()
	polls.Handle("/poll", consumer.New(func() *Poll { return &Poll{joined: joined} },
		consumer.OnRequest((*Poll).Wait), consumer.On((*Poll).Publish)))
	app := router.With(router.ByProtocol(router.Routes{"websocket": ws, "http": polls}), consumer.WithLayer(l))
	s := start(t, wsa.Config{}, app)

	conns := []*gorilla.Conn{s.dial(t, "/ws/", nil), s.dial(t, "/ws/", nil), s.dial(t, "/ws/", nil)}
	for _, c := range conns {
		send(t, c, "hi")
		recv(t, c)
	}
	poll := make(chan int, 1)
	go func() {
		resp, err := http.Get(s.url + "/poll")
		if err != nil {
			poll <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		poll <- resp.StatusCode
	}()
	select {
	case <-joined:
	case <-time.After(wait):
		t.Fatal("the long poll did not start")
	}

	stopped := make(chan struct{})
	go func() { s.stop(t); close(stopped) }()
	for _, c := range conns {
		if code := closeCode(t, c); code != websocket.CloseGoingAway {
			t.Errorf("close code %d, want 1001", code)
		}
	}
	for range conns {
		if d := p.end(t); d.Reason != scope.ReasonShutdown || d.Code != websocket.CloseGoingAway {
			t.Errorf("disconnect %+v, want 1001 shutdown", d)
		}
	}
	select {
	case status := <-poll:
		if status != http.StatusServiceUnavailable {
			t.Errorf("long poll in flight got %d, want 503", status)
		}
	case <-time.After(wait):
		t.Fatal("the long poll was not answered")
	}
	select {
	case <-stopped:
	case <-time.After(wait):
		t.Fatal("Shutdown did not return")
	}
	if _, _, err := gorilla.DefaultDialer.Dial(s.wsURL("/ws/"), nil); err == nil {
		t.Error("a connection opened after Shutdown")
	}
}

// TestHardStop: Run's context ends. The client here reads nothing until Run
// returned, so it never answers the close frame: CloseTimeout bounds the
// wait for it.
func TestHardStop(t *testing.T) {
	p := newProbe()
	a, err := wsa.New(wsa.Config{Addr: "127.0.0.1:0", CloseTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(a, adapters.WithScopes(a.ScopeConfig(scope.Config{})))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx, routes(p)) }()
	<-h.Ready()
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+a.Addr().String()+"/ws/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send(t, c, "x")
	recv(t, c)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after its context ended")
	}
	if d := p.end(t); d.Reason != scope.ReasonShutdown {
		t.Errorf("disconnect %+v, want reason shutdown", d)
	}
	if code := closeCode(t, c); code != -1 && code != websocket.CloseAbnormal && code != websocket.CloseGoingAway {
		t.Errorf("close code %d after a hard stop", code)
	}
}

// room broadcasts every message to every member, encoding it once.
type room struct{ consumer.WebSocket }

func (r *room) Connect(ctx context.Context, _ websocket.Connect) error {
	if err := r.Accept(ctx, ""); err != nil {
		return err
	}
	return r.GroupAdd(ctx, "room")
}

func (r *room) Receive(ctx context.Context, m websocket.Receive) error {
	if text, ok := strings.CutPrefix(m.Text, "remote:"); ok {
		// What a layer of another process delivers: the generic form.
		return r.Send(ctx, event.Message{"type": "websocket.send", "text": text})
	}
	return r.GroupSend(ctx, "room", wsa.NewBroadcast(m.Text))
}

func (r *room) Forward(ctx context.Context, b *wsa.Broadcast) error { return r.Send(ctx, b) }

func TestBroadcast(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() }) // after the server's shutdown, registered later
	app := router.With(consumer.New(func() *room { return new(room) },
		consumer.On((*room).Connect), consumer.On((*room).Receive), consumer.On((*room).Forward)),
		consumer.WithLayer(l))
	s := start(t, wsa.Config{Compression: true}, app)
	var members []*gorilla.Conn
	for i := range 5 {
		d := gorilla.Dialer{EnableCompression: i%2 == 0} // some compressed, some not
		c, _, err := d.Dial(s.wsURL("/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		members = append(members, c)
	}
	// Every member has joined once each has seen its own message back.
	for i, c := range members {
		send(t, c, "join "+string(rune('0'+i)))
		for {
			if recv(t, c) == "join "+string(rune('0'+i)) {
				break
			}
		}
	}
	send(t, members[0], "hello, room")
	for _, c := range members {
		for {
			if got := recv(t, c); got == "hello, room" {
				break
			} else if !strings.HasPrefix(got, "join ") {
				t.Fatalf("got %q", got)
			}
		}
	}
	send(t, members[1], "remote:generic")
	if got := recv(t, members[1]); got != "generic" {
		t.Errorf("generic websocket.send: %q", got)
	}
	b := wsa.NewBroadcast("over the wire")
	data, err := event.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := event.Unmarshal(data)
	if err != nil || m.Type() != "websocket.broadcast" || m["text"] != "over the wire" {
		t.Errorf("a broadcast encodes as %v (%v)", m, err)
	}
}
