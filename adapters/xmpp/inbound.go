package xmpp

import (
	"context"
	"log/slog"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// target is where a scope's Say and Send without a To go: the adapter's
// own value of each scope.
type target struct {
	to   jid.JID
	room bool
}

// message hands a message stanza to its conversation, or settles the
// fence of a message the server bounced.
func (a *Adapter) message(ctx context.Context, in *adapters.Intake, c *conn, m *inbound, raw string, log *slog.Logger) {
	if m.Type == stanza.ErrorMessage {
		e := m.Error
		if e == nil {
			e = &stanza.Error{Condition: stanza.UndefinedCondition}
		}
		if !c.bounced(m.ID, m.From, e) {
			// A remote server's refusal can come after the Send it
			// answers returned: it is only logged.
			log.Warn("xmpp: a message was refused after it was sent", "to", m.From.String(), "condition", string(e.Condition))
		}
		return
	}
	if m.Body == "" || m.From.Equal(jid.JID{}) {
		return // a chat state, a receipt, a subject; or the bot's own account
	}
	if ctx.Err() != nil {
		log.Info("xmpp: a message arrived while stopping and is not delivered", "from", m.From.String())
		return
	}
	ev := Message{From: m.From.String(), ID: m.ID, Text: m.Body, Raw: raw}
	var key string
	var chat scope.Chat
	var user, bot scope.User
	var tgt target
	room := m.From.Bare().String()
	nick, joined := c.roomNick(room)
	switch {
	case m.Type == stanza.GroupChatMessage:
		if !joined || m.From.Resourcepart() == "" || m.From.Resourcepart() == nick {
			// Not a room the bot is in; the room's own notice; or the
			// bot's own message reflected.
			return
		}
		if m.Delay != nil || m.Legacy != nil {
			// History a room replays on join: already seen before a
			// reconnection, or said before the bot came.
			log.Debug("xmpp: room history skipped", "room", room, "id", m.ID)
			return
		}
		ev.Room, ev.Nick = room, m.From.Resourcepart()
		key = room
		chat = scope.Chat{ID: room, Type: ChatRoom}
		user = scope.User{ID: ev.From, Name: ev.Nick, Username: ev.Nick}
		bot = scope.User{ID: room + "/" + nick, Name: nick, Username: nick}
		tgt = target{to: m.From.Bare(), room: true}
	case m.Type == stanza.ChatMessage || m.Type == stanza.NormalMessage:
		if m.From.Bare().Equal(a.p.me.Bare()) {
			return // the bot's own account
		}
		// A one-to-one chat; a private message from a room's occupant
		// is a conversation with that occupant. Offline messages carry a
		// delay too, and are delivered: the bot never saw them.
		to := m.From.Bare()
		ev.Nick = to.Localpart()
		if joined {
			to, ev.Nick = m.From, m.From.Resourcepart()
		}
		key = to.String()
		ev.From = to.String()
		chat = scope.Chat{ID: key, Type: ChatPrivate}
		user = scope.User{ID: key, Name: ev.Nick, Username: ev.Nick}
		bot = scope.User{ID: a.p.me.Bare().String(), Name: a.cfg.Nick, Username: a.p.me.Localpart()}
		tgt = target{to: to}
	default:
		return // a headline is a notification, not chat
	}
	err := in.TryDeliver(key, ev, func() *scope.Scope {
		s := &scope.Scope{Type: Protocol, Adapter: a.name, Chat: chat, User: user, Bot: bot}
		s.SetAdapterValue(tgt)
		return s
	}, nil)
	if err != nil {
		// XMPP has no acknowledgement to withhold and sends nothing
		// again, and waiting here would stall the stream every other
		// conversation and every Send's confirmation read from.
		in.Drop(key, err)
	}
}
