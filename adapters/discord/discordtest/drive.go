package discordtest

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

// Message is a user's message that the fake dispatches as MESSAGE_CREATE.
type Message struct {
	// ChannelID is the channel (or thread) it is said in.
	ChannelID string
	// GuildID is the guild of the channel; empty for a direct message.
	GuildID string
	// AuthorID and Username say who wrote it; defaults: "200000000000000002"
	// and "ada". Bot marks an author that is a bot.
	AuthorID string
	Username string
	Bot      bool
	Content  string
}

// Say dispatches m as MESSAGE_CREATE to the session whose shard has m's
// guild, and returns the message's id. With no such session, the message
// reaches no bot, as on Discord.
func (s *Server) Say(m Message) string {
	if m.AuthorID == "" {
		m.AuthorID = "200000000000000002"
	}
	if m.Username == "" {
		m.Username = "ada"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.snowflakeLocked()
	for _, sess := range s.gw.sessions {
		if sess.invalid || shardOf(m.GuildID, sess.shard[1]) != sess.shard[0] {
			continue
		}
		content := m.Content
		if m.GuildID != "" && sess.intents&intentMessageContent == 0 && !strings.Contains(content, "<@"+BotID+">") {
			content = "" // privileged: withheld without the intent
		}
		d := map[string]any{"id": id, "channel_id": m.ChannelID, "content": content, "type": 0,
			"author": map[string]any{"id": m.AuthorID, "username": m.Username, "global_name": strings.ToUpper(m.Username[:1]) + m.Username[1:],
				"discriminator": "0", "bot": m.Bot},
			"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "tts": false, "mention_everyone": false,
			"mentions": []any{}, "attachments": []any{}, "embeds": []any{}, "pinned": false}
		if m.GuildID != "" {
			d["guild_id"] = m.GuildID
		}
		s.dispatchLocked(sess, "MESSAGE_CREATE", d)
	}
	s.notifyLocked()
	return id
}

// Dispatch sends any dispatch event, with data d, to every session: for
// events the fake has no helper for, and for malformed ones.
func (s *Server) Dispatch(t string, d any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.gw.sessions {
		if !sess.invalid {
			s.dispatchLocked(sess, t, d)
		}
	}
	s.notifyLocked()
}

// shardOf returns the shard of a guild among n: (guild_id >> 22) % n;
// direct messages go to shard 0.
func shardOf(guild string, n int) int {
	g, ok := new(big.Int).SetString(guild, 10)
	if guild == "" || !ok || n <= 1 {
		return 0
	}
	g.Rsh(g, 22)
	return int(g.Mod(g, big.NewInt(int64(n))).Int64())
}

// Drop breaks every Gateway connection without a close frame, as a network
// failure does: the sessions stay resumable, and what is dispatched until
// the client resumes is replayed then.
func (s *Server) Drop() {
	s.mu.Lock()
	conns := s.gw.dropAllLocked()
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
}

// Outage drops every Gateway connection and holds new ones until f has
// returned: what f says is dispatched to sessions with no connection, and
// reaches the client only as the replay of its RESUME.
func (s *Server) Outage(f func()) {
	s.mu.Lock()
	held := make(chan struct{})
	s.outage = held
	s.mu.Unlock()
	s.Drop()
	defer func() {
		s.mu.Lock()
		if s.outage == held {
			close(held)
			s.outage = nil
		}
		s.mu.Unlock()
	}()
	f()
}

// Unavailable makes the Gateway answer new connections 503, as a Gateway
// in trouble does, until called with false. Open connections stay.
func (s *Server) Unavailable(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Reconnect sends RECONNECT (op 7) on every connection: the client must
// reconnect and resume.
func (s *Server) Reconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.gw.conns {
		s.sendLocked(c, outFrame{data: marshal(map[string]any{"op": opReconnect, "d": nil})})
	}
}

// InvalidateSessions sends INVALID_SESSION (op 9) with d resumable on
// every connection; unless resumable, the sessions end for good and the
// client must IDENTIFY again.
func (s *Server) InvalidateSessions(resumable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.gw.conns {
		if c.sess != nil && !resumable {
			c.sess.invalid = true
		}
		s.sendLocked(c, outFrame{data: marshal(map[string]any{"op": opInvalidSession, "d": resumable})})
	}
}

// StopAcks leaves every heartbeat from now on without HEARTBEAT_ACK, as a
// connection that went dead without closing (a zombie) does.
func (s *Server) StopAcks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.noAcks = true
}

// Counts is what the Gateway saw.
type Counts struct {
	Identifies int // IDENTIFYs answered with READY
	Resumes    int // RESUMEs answered with a replay and RESUMED
	Replayed   int // dispatches sent again in those replays
	Heartbeats int
	Connected  int // open connections with a session
	// Closes are the close codes the clients sent, in order.
	Closes []int
}

// Counts returns what the Gateway saw so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countsLocked()
}

func (s *Server) countsLocked() Counts {
	c := Counts{Identifies: s.gw.identifies, Resumes: s.gw.resumes, Replayed: s.gw.replayed, Heartbeats: s.gw.heartbeats,
		Closes: append([]int(nil), s.gw.closes...)}
	for conn := range s.gw.conns {
		if conn.sess != nil {
			c.Connected++
		}
	}
	return c
}

// Await waits until cond holds for the Gateway's counts, failing t after
// Timeout.
func (s *Server) Await(t testing.TB, what string, cond func(Counts) bool) {
	t.Helper()
	s.await(t, what, func() bool { return cond(s.countsLocked()) })
}

// Shards returns the shard of each live session, by session id.
func (s *Server) Shards() map[string][2]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][2]int{}
	for id, sess := range s.gw.sessions {
		if !sess.invalid {
			out[id] = sess.shard
		}
	}
	return out
}
