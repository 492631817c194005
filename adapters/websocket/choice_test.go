package websocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// asker is a chat consumer that asks a question with choices on "ask" and
// tells what it got: "text: ..." for a message, "answer: TOKEN TEXT" for
// a press.
type asker struct{ consumer.Chat }

var sizes = event.Ask{Text: "Which size?", Choices: []event.Choice{{Text: "S", Token: "t-s"}, {Text: "M", Token: "t-m"}}}

func (a *asker) Message(ctx context.Context, m event.ChatMessage) error {
	switch m.ChatText() {
	case "ask":
		return a.Send(ctx, sizes)
	case "ask by message": // as it arrives from another process's layer
		m, err := event.ToMessage(sizes)
		if err != nil {
			return err
		}
		return a.Send(ctx, m)
	case "bad ask":
		err := a.Send(ctx, event.Ask{Text: "?", Choices: []event.Choice{{Text: "x", Token: strings.Repeat("t", event.MaxTokenLen+1)}}})
		return a.Say(ctx, "invalid: "+boolText(errors.Is(err, wsa.ErrInvalidAsk)))
	case "html":
		return a.Send(ctx, event.Ask{Text: "<i>Which?</i>", Choices: []event.Choice{{Text: "<b>bold</b>", Token: "t-b"}, {Text: `"quoted'`, Token: "t-q"}}})
	case "marked":
		return a.Say(ctx, "\x1e not a frame")
	}
	return a.Say(ctx, "text: "+m.ChatText())
}

func boolText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (a *asker) Answer(ctx context.Context, ans event.Answer) error {
	return a.Say(ctx, "answer: "+ans.Token+" "+ans.Text)
}

func askerRoutes() scope.Application {
	ws := router.NewPathRouter()
	ws.Handle("/ask/", consumer.New(func() *asker { return &asker{} },
		consumer.OnMessage((*asker).Message), consumer.On((*asker).Answer)))
	return router.ByProtocol(router.Routes{"websocket": ws})
}

// dialChat opens a WebSocket that offers the chat protocol and checks that
// the server chose it.
func dialChat(t *testing.T, s *server) *gorilla.Conn {
	t.Helper()
	d := gorilla.Dialer{Subprotocols: []string{wsa.ChatSubprotocol}}
	c, resp, err := d.Dial(s.wsURL("/ask/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if got := resp.Header.Get("Sec-Websocket-Protocol"); got != wsa.ChatSubprotocol {
		t.Fatalf("subprotocol %q, want %q", got, wsa.ChatSubprotocol)
	}
	return c
}

type frame struct {
	Type    string         `json:"type"`
	Text    string         `json:"text"`
	Token   string         `json:"token"`
	Error   string         `json:"error"`
	Choices []event.Choice `json:"choices"`
}

// recvFrame reads a frame of the chat protocol.
func recvFrame(t *testing.T, c *gorilla.Conn) frame {
	t.Helper()
	msg := recv(t, c)
	rest, ok := strings.CutPrefix(msg, "\x1e")
	if !ok {
		t.Fatalf("got %q, want a frame of the chat protocol", msg)
	}
	var f frame
	if err := json.Unmarshal([]byte(rest), &f); err != nil {
		t.Fatalf("frame %q: %v", msg, err)
	}
	return f
}

func answer(t *testing.T, c *gorilla.Conn, token string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"type": "answer", "token": token})
	send(t, c, "\x1e"+string(b))
}

// A client of the chat protocol gets a choice frame, and its answer frame
// reaches the consumer as an event.Answer; typed text is still a message,
// and a bot's text that happens to start with the protocol's mark is sent
// as a text frame of the protocol, not taken for one.
func TestChoiceFrameAndAnswer(t *testing.T) {
	s := start(t, wsa.Config{}, askerRoutes())
	c := dialChat(t, s)
	send(t, c, "ask")
	f := recvFrame(t, c)
	if f.Type != "ask" || f.Text != "Which size?" || len(f.Choices) != 2 || f.Choices[1] != sizes.Choices[1] {
		t.Fatalf("choice frame %+v, want %+v", f, sizes)
	}
	answer(t, c, "t-m")
	if got := recv(t, c); got != "answer: t-m M" {
		t.Fatalf("after the press the bot said %q", got)
	}
	send(t, c, "ask by message")
	if f := recvFrame(t, c); f.Type != "ask" || len(f.Choices) != 2 || f.Choices[0] != sizes.Choices[0] {
		t.Fatalf("a chat.ask decoded from a layer message: %+v", f)
	}
	answer(t, c, "t-s")
	if got := recv(t, c); got != "answer: t-s S" {
		t.Fatalf("after the press the bot said %q", got)
	}
	send(t, c, "2")
	if got := recv(t, c); got != "text: 2" {
		t.Fatalf("typed text: %q", got)
	}
	send(t, c, "marked")
	if f := recvFrame(t, c); f.Type != "text" || f.Text != "\x1e not a frame" {
		t.Fatalf("a marked text was sent as %+v", f)
	}
	send(t, c, "bad ask")
	if got := recv(t, c); got != "invalid: yes" {
		t.Fatalf("an Ask with a 65-byte token: %q, want ErrInvalidAsk", got)
	}
}

// A client that does not offer the chat protocol reads a question as
// numbered lines, and a frame that starts with the mark is its text.
func TestPlainClientGetsNumberedText(t *testing.T) {
	s := start(t, wsa.Config{}, askerRoutes())
	c := s.dial(t, "/ask/", nil)
	if c.Subprotocol() != "" {
		t.Fatalf("subprotocol %q chosen for a client that offered none", c.Subprotocol())
	}
	send(t, c, "ask")
	if got := recv(t, c); got != "Which size?\n1. S\n2. M" {
		t.Fatalf("a plain client got %q", got)
	}
	send(t, c, "\x1e{\"type\":\"answer\",\"token\":\"t-s\"}")
	if got := recv(t, c); got != "text: \x1e{\"type\":\"answer\",\"token\":\"t-s\"}" {
		t.Fatalf("a plain client's marked text became %q", got)
	}
}

// An answer with a token the connection was not offered (forged, or a
// question answered already) is refused to the client and never reaches
// the consumer; the connection stays open.
func TestAnswerNotOfferedIsRefused(t *testing.T) {
	s := start(t, wsa.Config{}, askerRoutes())
	c := dialChat(t, s)
	answer(t, c, "t-s") // nothing asked yet
	if f := recvFrame(t, c); f.Type != "refused" || f.Token != "t-s" || f.Error == "" {
		t.Fatalf("an answer before any question: %+v, want a refusal", f)
	}
	send(t, c, "ask")
	recvFrame(t, c)
	answer(t, c, "forged")
	if f := recvFrame(t, c); f.Type != "refused" || f.Token != "forged" {
		t.Fatalf("a forged token: %+v, want a refusal", f)
	}
	answer(t, c, "t-s")
	if got := recv(t, c); got != "answer: t-s S" {
		t.Fatalf("the offered token after a forged one: %q", got)
	}
	answer(t, c, "t-m") // the question was answered
	if f := recvFrame(t, c); f.Type != "refused" || f.Token != "t-m" {
		t.Fatalf("a second answer to one question: %+v, want a refusal", f)
	}
	send(t, c, "still here")
	if got := recv(t, c); got != "text: still here" {
		t.Fatalf("after refusals the bot said %q", got)
	}
}

// A malformed frame of the chat protocol (not JSON, not an answer, no
// token, over 1 KiB) closes the connection with 1007 and reaches nobody.
func TestMalformedChatFrameCloses1007(t *testing.T) {
	s := start(t, wsa.Config{}, askerRoutes())
	for name, text := range map[string]string{
		"not JSON":  "\x1e{answer",
		"not typed": "\x1e{\"token\":\"t-s\"}",
		"no token":  "\x1e{\"type\":\"answer\"}",
		"too big":   "\x1e{\"type\":\"answer\",\"token\":\"" + strings.Repeat("x", 2000) + "\"}",
	} {
		c := dialChat(t, s)
		send(t, c, "ask")
		recvFrame(t, c)
		send(t, c, text)
		if code := closeCode(t, c); code != websocket.CloseInvalidPayload {
			t.Errorf("%s: closed with %d, want 1007", name, code)
		}
	}
}

// An application that chooses a subprotocol of its own keeps it: the
// connection does not speak the chat protocol, and questions come as
// numbered text.
func TestOwnSubprotocolWins(t *testing.T) {
	p := newProbe()
	s := start(t, wsa.Config{}, routes(p)) // echo accepts the last subprotocol offered
	d := gorilla.Dialer{Subprotocols: []string{wsa.ChatSubprotocol, "mine"}}
	c, _, err := d.Dial(s.wsURL("/ws/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Subprotocol() != "mine" {
		t.Fatalf("subprotocol %q, want the application's", c.Subprotocol())
	}
	send(t, c, "\x1e{}")
	if got := recv(t, c); got != "echo: \x1e{}" {
		t.Fatalf("got %q", got)
	}
}
