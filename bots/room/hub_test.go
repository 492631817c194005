package room_test

import (
	"context"
	"net"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/bots/room"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/scope"
)

// startRoom serves app, the room bot with its layer, on the WebSocket
// adapter until the test ends, and returns its address.
func startRoom(t *testing.T, app scope.Application, opts ...adapters.HostOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(a, append([]adapters.HostOption{adapters.WithScopes(a.ScopeConfig(scope.Config{}))}, opts...)...)
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	})
	<-h.Ready()
	return ln.Addr().String()
}

// Web members on the WebSocket adapter share their room's hub: each hears
// the others and a chat member, not itself; the room goes on as members
// leave, and a member joining a room everyone left hears it again.
func TestWebMembersOnTheAdapterShareAHub(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // after the server's shutdown
	app := room.New()
	addr := startRoom(t, consumer.WithLayer(l)(app))
	join := func(name string) *gorilla.Conn {
		t.Helper()
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/ws/room/?u="+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if got := read(t, c); got != "Welcome to room lobby, Anonymous! /name <name> changes your name." {
			t.Fatalf("welcome %q", got)
		}
		if err := c.WriteMessage(gorilla.TextMessage, []byte("/name "+name)); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); got != "You are now "+name+"." {
			t.Fatalf("rename %q", got)
		}
		return c
	}
	say := func(c *gorilla.Conn, text string) {
		t.Helper()
		if err := c.WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(c *gorilla.Conn, want string) {
		t.Helper()
		if got := read(t, c); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	ann, bob := join("ann"), join("bob")
	chat := consumertest.NewChat(t, app, consumertest.WithLayer(l))
	chat.Scope().User = scope.User{Username: "cy"}
	chat.Say("hello") // a chat member joins with its first message
	expect(ann, "[chat] cy: hello")
	expect(bob, "[chat] cy: hello")

	say(ann, "one")
	expect(bob, "[web] ann: one")
	if got := chat.ReceiveSay(); got != "[web] ann: one" {
		t.Fatalf("chat got %q", got)
	}
	say(bob, "two")
	// ann's next line is bob's: she did not hear her own.
	expect(ann, "[web] bob: two")
	if got := chat.ReceiveSay(); got != "[web] bob: two" {
		t.Fatalf("chat got %q", got)
	}
	chat.Say("three")
	expect(ann, "[chat] cy: three")
	expect(bob, "[chat] cy: three")
	chat.ReceiveNothing()

	ann.Close()
	chat.Say("four")
	expect(bob, "[chat] cy: four")
	bob.Close()
	cat := join("cat")
	chat.Say("five")
	expect(cat, "[chat] cy: five")
	say(cat, "six")
	if got := chat.ReceiveSay(); got != "[web] cat: six" {
		t.Fatalf("chat got %q", got)
	}
}

// A member joining a room while lines flow hears the welcome first: no
// line of the room gets ahead of it.
func TestTheWelcomeComesFirst(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	addr := startRoom(t, consumer.WithLayer(l)(room.New()))
	dial := func() *gorilla.Conn {
		t.Helper()
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/ws/room/", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	talker := dial()
	read(t, talker) // the welcome
	stop := make(chan struct{})
	talked := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				talked <- nil
				return
			case <-tick.C:
			}
			if err := talker.WriteMessage(gorilla.TextMessage, []byte("line")); err != nil {
				talked <- err
				return
			}
		}
	}()
	for i := range 30 {
		c := dial()
		if got := read(t, c); got != "Welcome to room lobby, Anonymous! /name <name> changes your name." {
			t.Fatalf("member %d first got %q", i, got)
		}
		if got := read(t, c); got != "[web] Anonymous: line" {
			t.Fatalf("member %d then got %q", i, got)
		}
	}
	close(stop)
	if err := <-talked; err != nil {
		t.Fatal(err)
	}
}
