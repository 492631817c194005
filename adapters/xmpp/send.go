package xmpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/fence"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

const nsChatStates = "http://jabber.org/protocol/chatstates"

// Send implements adapters.Adapter: xmpp.send, xmpp.chat_state, and
// chat.say to the scope's own room or correspondent. A message returns
// once the server handled it: a *adapters.RefusedError carries the
// condition of a bounce (service-unavailable: no such account, or the
// user blocked the bot; forbidden: the bot may not speak in the room;
// not-acceptable: the bot is not in it).
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	own, _ := adapters.Value[target](s)
	return a.send(ctx, ev, own)
}

// Push implements adapters.Pusher: an xmpp.send, xmpp.chat_state or
// chat.say naming its To.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	return a.send(ctx, ev, target{})
}

// send delivers an xmpp.send, an xmpp.chat_state or a chat.say, to its To
// or else to own.
func (a *Adapter) send(ctx context.Context, ev event.Event, own target) error {
	var to, text, state string
	switch ev.Type() {
	case Send{}.Type():
		send, err := event.Decode[Send](ev)
		if err != nil {
			return err
		}
		to, text = send.To, send.Text
	case event.Say{}.Type():
		say, err := event.Decode[event.Say](ev)
		if err != nil {
			return err
		}
		to, text = say.To, say.Text
	case ChatState{}.Type():
		cs, err := event.Decode[ChatState](ev)
		if err != nil {
			return err
		}
		to, state = cs.To, cs.State
	default:
		return fmt.Errorf("xmpp: cannot send %q: %w", ev.Type(), adapters.ErrUnsupported)
	}
	t := own
	if to != "" {
		var err error
		if t, err = a.resolve(to); err != nil {
			return err
		}
	}
	if t.to.Equal(jid.JID{}) {
		return fmt.Errorf("xmpp: %s needs a to", ev.Type())
	}
	if state != "" {
		return a.chatState(ctx, t, state)
	}
	return a.say(ctx, t, text)
}

// resolve parses to: a configured room, or a room the bot is in, gets
// groupchat messages; anyone else chat messages.
func (a *Adapter) resolve(to string) (target, error) {
	j, err := jid.Parse(to)
	if err != nil {
		return target{}, fmt.Errorf("xmpp: bad to %q: %w", to, err)
	}
	if j.Resourcepart() != "" {
		return target{to: j}, nil
	}
	for _, r := range a.p.rooms {
		if r.addr.Equal(j) {
			return target{to: j, room: true}, nil
		}
	}
	if c, live := a.link.Live(); live {
		if _, ok := c.roomNick(j.String()); ok {
			return target{to: j, room: true}, nil
		}
	}
	return target{to: j}, nil
}

// say sends text to t, in pieces of at most MaxMessage bytes, once
// connected, and waits for the server's verdict.
func (a *Adapter) say(ctx context.Context, t target, text string) error {
	if t.to.Equal(jid.JID{}) {
		return errors.New("xmpp: the scope has no conversation to say it in")
	}
	if text == "" {
		return errors.New("xmpp: an empty text cannot be sent")
	}
	c, err := a.link.Current(ctx)
	if err != nil {
		return err
	}
	typ := stanza.ChatMessage
	if t.room {
		typ = stanza.GroupChatMessage
	}
	var sent []*fence.Fence[jid.JID]
	defer func() {
		for _, f := range sent {
			c.fences.Settle(f.Token)
		}
	}()
	for _, piece := range split(text, a.cfg.MaxMessage) {
		f := c.fences.Open(t.to)
		sent = append(sent, f)
		msg := fmt.Sprintf(`<message type="%s" to="%s" id="%s"><body>%s</body><active xmlns="%s"/></message>`,
			typ, attr(t.to.String()), f.Token, attr(piece), nsChatStates)
		if err := c.raw(ctx, msg); err != nil {
			return err
		}
	}
	// The server answers the ping after it handled the messages: a
	// bounce of any of them has arrived by then.
	pctx, cancel := c.bound(ctx)
	defer cancel()
	wctx, done := whileWriting(pctx)
	err = ping.Send(wctx, c.s, a.p.me.Domain())
	done()
	for _, f := range sent {
		c.fences.Settle(f.Token)
		var e stanza.Error
		if errors.As(f.Wait(context.Background()), &e) { // settled: no wait
			return &adapters.RefusedError{Adapter: a.name, Method: "message", Code: string(e.Condition),
				Description: errText(&e), Temporary: e.Type == stanza.Wait, Err: e}
		}
	}
	switch {
	case err == nil:
		return nil
	case c.Ended() && ctx.Err() == nil:
		return fence.ErrLost
	}
	return err
}

// errText returns a stanza error's text, in no language or in any.
func errText(e *stanza.Error) string {
	if t, ok := e.Text[""]; ok {
		return t
	}
	for _, t := range e.Text {
		return t
	}
	return ""
}

// chatState sends a chat state notification (XEP-0085) to t. The server
// bounces none of them, so it does not wait.
func (a *Adapter) chatState(ctx context.Context, t target, state string) error {
	switch state {
	case StateComposing, StatePaused, StateActive, StateInactive, StateGone:
	default:
		return fmt.Errorf("xmpp: unknown chat state %q", state)
	}
	c, err := a.link.Current(ctx)
	if err != nil {
		return err
	}
	typ := stanza.ChatMessage
	if t.room {
		typ = stanza.GroupChatMessage
	}
	return c.raw(ctx, fmt.Sprintf(`<message type="%s" to="%s"><%s xmlns="%s"/><no-store xmlns="urn:xmpp:hints"/></message>`,
		typ, attr(t.to.String()), state, nsChatStates))
}

// split cuts text into pieces of at most max bytes, at the last line end
// within the limit where there is one, else on a UTF-8 boundary.
func split(text string, limit int) []string {
	limit = max(limit, utf8.UTFMax)
	var out []string
	for len(text) > limit {
		cut := strings.LastIndexByte(text[:limit], '\n') + 1
		if cut == 0 {
			cut = limit
			for !utf8.RuneStart(text[cut]) {
				cut--
			}
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}
