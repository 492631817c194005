package room_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/bots/admin"
	"github.com/switchboard-bots/switchboard/bots/room"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
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
	chat := consumertest.New(t, app, &scope.Scope{Type: console.Protocol, Key: "ada", User: scope.User{Username: "ada"}},
		consumertest.WithLayer(l))

	chat.Send(console.Message{Conversation: "ada", Text: "hello from the terminal"})
	if got := web.ReceiveText(); got != "[console] ada: hello from the terminal" {
		t.Fatalf("web got %q", got)
	}
	chat.ReceiveNothing() // nobody hears themselves

	web.SendText("/name Bob")
	if got := web.ReceiveText(); got != "You are now Bob." {
		t.Fatalf("rename %q", got)
	}
	web.SendText("hi Ada")
	if got := consumertest.Receive[console.Send](chat); got.Text != "[web] Bob: hi Ada" || got.Conversation != "ada" {
		t.Fatalf("chat got %+v", got)
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
	if got := consumertest.Receive[console.Send](chat); got.Text != "[admin] admin: maintenance at noon" {
		t.Fatalf("chat got %+v", got)
	}

	web.Disconnect(1000)
	chat.Send(console.Message{Conversation: "ada", Text: "anyone?"})
	chat.ReceiveNothing()
}
