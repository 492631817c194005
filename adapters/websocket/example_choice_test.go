package websocket_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Tea asks a question with choices on any message and says which one was
// pressed.
type Tea struct{ consumer.Chat }

func (b *Tea) Message(ctx context.Context, _ event.ChatMessage) error {
	return b.Send(ctx, event.Ask{Text: "Milk?", Choices: []event.Choice{{Text: "yes", Token: "m1"}, {Text: "no", Token: "m0"}}})
}

func (b *Tea) Answer(ctx context.Context, a event.Answer) error {
	return b.Say(ctx, "Pressed "+a.Text+" ("+a.Token+").")
}

// A client of the chat protocol (as the chat page is) gets a question with
// choices as a choice frame, answers with an answer frame, and the bot
// gets an event.Answer; a client without it reads numbered lines. The
// frames start with U+001E, shown here as "␞".
func Example_chatProtocol() {
	ws := router.NewPathRouter()
	ws.Handle("/tea/", consumer.New(func() *Tea { return &Tea{} }, consumer.OnMessage((*Tea).Message), consumer.On((*Tea).Answer)))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	a, _ := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	h := adapters.NewHost(a, adapters.WithScopes(a.ScopeConfig(scope.Config{})))
	go h.Run(context.Background(), router.ByProtocol(router.Routes{"websocket": ws}))
	<-h.Ready()
	defer h.Shutdown(context.Background())
	url := "ws://" + ln.Addr().String() + "/tea/"
	show := func(c *gorilla.Conn) {
		_, msg, _ := c.ReadMessage()
		fmt.Println(strings.ReplaceAll(string(msg), "\x1e", "␞"))
	}

	page, _, err := (&gorilla.Dialer{Subprotocols: []string{wsa.ChatSubprotocol}}).Dial(url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer page.Close()
	_ = page.WriteMessage(gorilla.TextMessage, []byte("tea, please"))
	show(page)
	_ = page.WriteMessage(gorilla.TextMessage, []byte("\x1e"+`{"type":"answer","token":"m0"}`))
	show(page)
	_ = page.WriteMessage(gorilla.TextMessage, []byte("\x1e"+`{"type":"answer","token":"m1"}`))
	show(page)

	plain, _, err := gorilla.DefaultDialer.Dial(url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer plain.Close()
	_ = plain.WriteMessage(gorilla.TextMessage, []byte("tea, please"))
	show(plain)
	// Output:
	// ␞{"type":"ask","text":"Milk?","choices":[{"text":"yes","token":"m1"},{"text":"no","token":"m0"}]}
	// Pressed no (m0).
	// ␞{"type":"refused","token":"m1","error":"That choice is not offered (any more)."}
	// Milk?
	// 1. yes
	// 2. no
}
