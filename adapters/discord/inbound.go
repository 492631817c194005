package discord

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// user is a Discord user as the Gateway sends it.
type user struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
	Bot        bool   `json:"bot"`
}

func (u user) scopeUser() scope.User {
	name := u.GlobalName
	if name == "" {
		name = u.Username
	}
	return scope.User{ID: u.ID, Name: name, Username: u.Username}
}

// dispatch acts on one dispatch (op 0), and reports whether it brought
// the session up (READY or RESUMED).
func (a *Adapter) dispatch(ctx context.Context, in *adapters.Intake, log *slog.Logger, sess *session, c *conn, p payload) bool {
	switch p.T {
	case "READY":
		var r struct {
			SessionID string `json:"session_id"`
			ResumeURL string `json:"resume_gateway_url"`
			User      user   `json:"user"`
		}
		if err := json.Unmarshal(p.D, &r); err != nil || r.SessionID == "" {
			log.Error("discord: READY without a session", "err", err)
			return false
		}
		sess.id, sess.resumeURL = r.SessionID, r.ResumeURL
		bot := r.User.scopeUser()
		a.bot.Store(&bot)
		log.Info("discord: connected", "bot", bot.Username, "bot_id", bot.ID,
			"shard", a.cfg.Shard.ID, "shards", a.cfg.Shard.Count)
		in.Ready()
		return true
	case "RESUMED":
		log.Info("discord: session resumed", "seq", sess.seq.Load())
		return true
	case "MESSAGE_CREATE":
		a.deliver(ctx, in, log, c, p.D)
	}
	return false
}

// deliver hands a MESSAGE_CREATE to its channel's conversation. It waits
// while the conversation's inbox is full, and with it the reading of the
// Gateway (marked on c, so that the heartbeat does not take the ACKs it
// cannot read for a dead connection): Discord keeps what it could not
// send for the session.
func (a *Adapter) deliver(ctx context.Context, in *adapters.Intake, log *slog.Logger, c *conn, raw json.RawMessage) {
	var m messageCreate
	if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" || m.ChannelID == "" || m.Author == nil {
		log.Warn("discord: malformed MESSAGE_CREATE skipped", "err", err)
		return
	}
	bot := a.Bot()
	if m.Author.ID == bot.ID || (!a.cfg.AnswerBots && (m.Author.Bot || m.WebhookID != "")) {
		return // the bot's own message, or another bot's
	}
	ev := Message{ID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, AuthorID: m.Author.ID,
		Username: m.Author.Username, GlobalName: m.Author.GlobalName, Bot: m.Author.Bot,
		Content: m.Content, Raw: string(raw)}
	chat := scope.Chat{ID: m.ChannelID, Type: "guild"}
	if m.GuildID == "" {
		chat.Type = "dm"
	}
	newScope := func() *scope.Scope {
		s := &scope.Scope{Type: Protocol, Adapter: a.name, User: m.Author.scopeUser(), Bot: bot,
			Chat: chat, Team: m.GuildID}
		s.SetAdapterValue(m.ChannelID) // where chat.say and a discord.send without a channel go
		return s
	}
	err := in.TryDeliver(m.ChannelID, ev, newScope, nil)
	if errors.Is(err, scope.ErrInboxFull) {
		c.busy.Store(true)
		err = in.Deliver(ctx, m.ChannelID, ev, newScope, nil)
		c.busy.Store(false)
	}
	if err != nil {
		// Only when the adapter stops, or the conversation cannot start:
		// a session ended at shutdown is not resumed, so say what is lost.
		in.Drop(m.ChannelID, err, "message", m.ID)
	}
}

// messageCreate is the data of MESSAGE_CREATE, as far as the adapter
// reads it.
type messageCreate struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id"`
	Author    *user  `json:"author"`
	WebhookID string `json:"webhook_id"`
	Content   string `json:"content"`
}
