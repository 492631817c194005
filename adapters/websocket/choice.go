package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/event/websocket"
)

// ChatSubprotocol is the WebSocket subprotocol of the chat page: a client
// that offers it gets a question with choices (event.Ask) as a choice
// frame and answers it with an answer frame, both described in the
// package documentation ("The chat protocol"). A connection speaks it
// when the client offers it and the application accepts it, naming it or
// no subprotocol at all: a chat consumer needs no code for it.
const ChatSubprotocol = "switchboard.chat"

// chatMark starts every frame of the chat protocol that is not plain
// text: the ASCII record separator, which no typed text begins with.
const chatMark = "\x1e"

// Limits of the chat protocol.
const (
	// maxChatFrame bounds a client's answer frame, in bytes.
	maxChatFrame = 1024
	// maxChoices bounds the choices of one Ask.
	maxChoices = 100
)

var (
	// ErrInvalidAsk is returned by Send for an event.Ask that no client
	// could answer: no choices, more than 100, or a token that is empty,
	// repeated or longer than event.MaxTokenLen.
	ErrInvalidAsk = errors.New("websocket: invalid chat.ask")

	// errBadChatFrame is a client's frame of the chat protocol that is
	// not one: it closes the connection with 1007.
	errBadChatFrame = errors.New("websocket: malformed chat frame")
)

// chatState is what a connection speaking the chat protocol keeps: the
// choices of the last question it was asked, which are the only answers
// it may give.
type chatState struct {
	mu      sync.Mutex
	offered []event.Choice // the last Ask's choices; nil once one was chosen
}

// chatFrame is a frame of the chat protocol, after the mark, in both
// directions.
type chatFrame struct {
	Type    string       `json:"type"`
	Text    string       `json:"text,omitempty"`
	Token   string       `json:"token,omitempty"`
	Choices []chatChoice `json:"choices,omitempty"`
	Error   string       `json:"error,omitempty"`
}

type chatChoice struct {
	Text  string `json:"text"`
	Token string `json:"token"`
}

// acceptChat decides whether the connection speaks the chat protocol once
// the application accepts it with ev, and returns the Accept to answer the
// handshake with.
func (c *conn) acceptChat(ev websocket.Accept) websocket.Accept {
	if !slices.Contains(c.scope.Subprotocols, ChatSubprotocol) {
		return ev
	}
	if ev.Subprotocol == "" {
		ev.Subprotocol = ChatSubprotocol
	}
	if ev.Subprotocol == ChatSubprotocol {
		c.chat.CompareAndSwap(nil, &chatState{}) // a second Accept (refused) keeps the first's state
	}
	return ev
}

// sendAsk sends a question with choices: a choice frame to a client of the
// chat protocol, numbered lines to any other.
func (c *conn) sendAsk(ctx context.Context, ask event.Ask) error {
	if err := validAsk(ask); err != nil {
		return err
	}
	m := outMsg{kind: outText}
	cs := c.chat.Load()
	if cs == nil {
		m.text = ask.Numbered()
		return c.enqueue(ctx, &m)
	}
	f := chatFrame{Type: "ask", Text: ask.Text, Choices: make([]chatChoice, len(ask.Choices))}
	for i, ch := range ask.Choices {
		f.Choices[i] = chatChoice(ch)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("websocket: encode chat.ask: %w", err)
	}
	m.text = chatMark + string(b)
	cs.mu.Lock()
	cs.offered = slices.Clone(ask.Choices)
	cs.mu.Unlock()
	return c.enqueue(ctx, &m)
}

func validAsk(ask event.Ask) error {
	if len(ask.Choices) == 0 || len(ask.Choices) > maxChoices {
		return fmt.Errorf("%w: %d choices (1 to %d)", ErrInvalidAsk, len(ask.Choices), maxChoices)
	}
	for i, ch := range ask.Choices {
		switch {
		case ch.Token == "" || len(ch.Token) > event.MaxTokenLen:
			return fmt.Errorf("%w: choice %d's token is %d bytes (1 to %d)", ErrInvalidAsk, i, len(ch.Token), event.MaxTokenLen)
		case slices.ContainsFunc(ask.Choices[:i], func(o event.Choice) bool { return o.Token == ch.Token }):
			return fmt.Errorf("%w: choice %d repeats token %q", ErrInvalidAsk, i, ch.Token)
		}
	}
	return nil
}

// sayText sends a bot's text to a client. A text that begins with the
// chat protocol's mark is sent to a client of the protocol as a text
// frame of the protocol, so that it is shown and not taken for a frame.
func (c *conn) sayText(ctx context.Context, text string) error {
	m := outMsg{kind: outText, text: text}
	if c.chat.Load() != nil && strings.HasPrefix(text, chatMark) {
		b, err := json.Marshal(chatFrame{Type: "text", Text: text})
		if err != nil {
			return err
		}
		m.text = chatMark + string(b)
	}
	return c.enqueue(ctx, &m)
}

// chatInbound turns a client's text frame into the event it stands for:
// itself, unless the connection speaks the chat protocol and the frame is
// one of the protocol's. An answer to a choice offered becomes an
// event.Answer; one that was not offered (a stale or forged token) is
// refused with a refusal frame and delivers nothing (ok false). A
// malformed frame returns errBadChatFrame.
func (c *conn) chatInbound(ctx context.Context, in websocket.Receive) (ev event.Event, ok bool, err error) {
	cs := c.chat.Load()
	if cs == nil || !in.IsText() || !strings.HasPrefix(in.Text, chatMark) {
		return in, true, nil
	}
	token, err := parseAnswer(in.Text)
	if err != nil {
		return nil, false, err
	}
	cs.mu.Lock()
	i := slices.IndexFunc(cs.offered, func(ch event.Choice) bool { return ch.Token == token })
	var chosen event.Choice
	if i >= 0 {
		chosen = cs.offered[i]
		cs.offered = nil // one answer per question
	}
	cs.mu.Unlock()
	if i < 0 {
		c.run.log.Debug("websocket: answer refused: choice not offered", "adapter", c.a.cfg.Name, "key", c.key)
		refusal, _ := json.Marshal(chatFrame{Type: "refused", Token: token, Error: "That choice is not offered (any more)."})
		m := outMsg{kind: outText, text: chatMark + string(refusal)}
		return nil, false, c.enqueue(ctx, &m)
	}
	return event.Answer{Token: chosen.Token, Text: chosen.Text}, true, nil
}

// parseAnswer returns the token of a client's answer frame, mark
// included, or errBadChatFrame.
func parseAnswer(text string) (string, error) {
	if len(text) > maxChatFrame {
		return "", fmt.Errorf("%w: %d bytes (at most %d)", errBadChatFrame, len(text), maxChatFrame)
	}
	var f chatFrame
	if err := json.Unmarshal([]byte(strings.TrimPrefix(text, chatMark)), &f); err != nil {
		return "", fmt.Errorf("%w: %v", errBadChatFrame, err)
	}
	if f.Type != "answer" || f.Token == "" {
		return "", fmt.Errorf("%w: want {\"type\":\"answer\",\"token\":...}", errBadChatFrame)
	}
	return f.Token, nil
}
