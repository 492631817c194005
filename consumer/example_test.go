package consumer_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
)

// Counter is a chat consumer with per-conversation state: each
// conversation has its own instance, and so its own count.
type Counter struct {
	consumer.Chat
	n int
}

// Message answers with the message's number in its conversation.
func (c *Counter) Message(ctx context.Context, m event.ChatMessage) error {
	c.n++
	return c.Reply(ctx, fmt.Sprintf("#%d: %s", c.n, m.ChatText()))
}

// A consumer type is a struct embedding a base, a constructor, and one
// handler per event type. Here it runs on the console adapter.
func Example() {
	app := consumer.New(func() *Counter { return new(Counter) },
		consumer.OnMessage((*Counter).Message))

	in := strings.NewReader("hi\nhello again\n")
	_ = adapters.NewHost(console.New(in, os.Stdout, console.Config{})).Run(context.Background(), app)
	// Output:
	// [console] #1: hi
	// [console] #2: hello again
}

// A chat conversation's channel is named from its adapter and key, in its
// partition; the process serving the partition receives every channel
// whose name starts with "conv.<partition>!".
func ExampleConversationChannel() {
	name, _ := consumer.ConversationChannel(3, "telegram", "-1001234:7")
	fmt.Println(name)
	p, adapter, key, _ := consumer.ParseConversationChannel(name)
	fmt.Println(p, adapter, key)
	// Output:
	// conv.3!telegram.-1001234_3a7
	// 3 telegram -1001234:7
}
