package djangochat_test

import (
	"fmt"

	"github.com/switchboard-bots/switchboard/bots/djangochat"
	"github.com/switchboard-bots/switchboard/event"
)

// Example shows what the bot sends to a room: the event the Django
// Channels tutorial's ChatConsumer.chat_message takes, in the group its
// connect joins.
func Example() {
	m, err := event.ToMessage(djangochat.Message{Message: "ada: hello"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(djangochat.Group("lobby"))
	fmt.Println(m)
	// Output:
	// chat_lobby
	// map[message:ada: hello type:chat.message]
}
