package memory_test

import (
	"context"
	"fmt"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

// Announcement is a typed event, as a bot would declare it.
type Announcement struct {
	Text string `msgpack:"text"`
}

func (Announcement) Type() string { return "room.announcement" }

func Example() {
	ctx := context.Background()
	l, err := memory.New(layer.Config{})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	inbox, err := l.NewChannel(ctx, "specific.")
	if err != nil {
		panic(err)
	}
	if err := l.Send(ctx, inbox, event.Message{"type": "chat.message", "text": "hello"}); err != nil {
		panic(err)
	}
	ev, err := l.Receive(ctx, inbox)
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Type(), ev.(event.Message)["text"])
	// Output: chat.message hello
}

func ExampleLayer_GroupSend() {
	ctx := context.Background()
	l, err := memory.New(layer.Config{})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	members := []string{"chat.alice", "chat.bob"}
	for _, ch := range members {
		if err := l.GroupAdd(ctx, "room.lobby", ch); err != nil {
			panic(err)
		}
	}
	if err := l.GroupSend(ctx, "room.lobby", Announcement{Text: "welcome"}); err != nil {
		panic(err)
	}
	for _, ch := range members {
		ev, err := l.Receive(ctx, ch)
		if err != nil {
			panic(err)
		}
		a, err := event.Decode[Announcement](ev)
		if err != nil {
			panic(err)
		}
		fmt.Println(ch, a.Text)
	}
	// Output:
	// chat.alice welcome
	// chat.bob welcome
}

// A process claims a prefix to receive every channel named with it, such
// as the conversation channels of a partition it serves, whoever made
// them and whether or not anyone subscribed.
func ExampleLayer_Claim() {
	ctx := context.Background()
	l, _ := memory.New(layer.Config{})
	defer l.Close()
	cancel, _ := l.Claim("conv.0", func(channel string, sh *layer.Shared) {
		fmt.Println(channel, sh.Event().Type())
	})
	defer cancel()
	_ = l.GroupAdd(ctx, "room.lobby", "conv.0!telegram.42")
	_ = l.GroupSend(ctx, "room.lobby", Announcement{Text: "hello"})
	// Output: conv.0!telegram.42 room.announcement
}
