package room_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/bots/admin"
	"github.com/switchboard-bots/switchboard/bots/room"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMembersOnEveryProtocolSeeEachOther(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	app := room.New()
	web := consumertest.NewWebSocket(t, app, "/ws/room/", consumertest.WithLayer(l))
	if ok, _, _ := web.Connect(); !ok {
		t.Fatal("rejected")
	}
	if got := web.ReceiveText(); got != "Welcome to room lobby, Anonymous! /name <name> changes your name." {
		t.Fatalf("welcome %q", got)
	}
	chat := consumertest.NewChat(t, app, consumertest.WithLayer(l))
	chat.Scope().User = scope.User{Username: "ada"}

	chat.Say("hello from the terminal")
	if got := web.ReceiveText(); got != "[chat] ada: hello from the terminal" {
		t.Fatalf("web got %q", got)
	}
	chat.ReceiveNothing() // nobody hears themselves

	web.SendText("/name Bob")
	if got := web.ReceiveText(); got != "You are now Bob." {
		t.Fatalf("rename %q", got)
	}
	web.SendText("hi Ada")
	// Said in Ada's conversation, not as an answer to her old message.
	if got := chat.ReceiveSay(); got != "[web] Bob: hi Ada" {
		t.Fatalf("chat got %q", got)
	}
	web.ReceiveNothing()

	op := consumertest.NewWebSocket(t, admin.New(), "/ws/admin/", consumertest.WithLayer(l))
	op.Connect()
	op.ReceiveText() // the help
	op.SendText("/announce maintenance at noon")
	if got := op.ReceiveText(); got != "Announced." {
		t.Fatalf("admin got %q", got)
	}
	if got := web.ReceiveText(); got != "[admin] admin: maintenance at noon" {
		t.Fatalf("web got %q", got)
	}
	if got := chat.ReceiveSay(); got != "[admin] admin: maintenance at noon" {
		t.Fatalf("chat got %q", got)
	}

	web.Disconnect(1000)
	chat.Say("anyone?")
	chat.ReceiveNothing()
}

func TestRoomHandlesWebAndChatProtocols(t *testing.T) {
	app := room.New()
	for p, want := range map[string]bool{"websocket": true, "telegram": true, "slack": true, "http": false} {
		if got := router.HandlesProtocol(app, p); got != want {
			t.Errorf("HandlesProtocol(%q) = %v, want %v", p, got, want)
		}
	}
}
