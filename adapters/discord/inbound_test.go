package discord_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/internal/logtest"
)

// The echo bot, unchanged, answers on Discord: a reply to the user's
// message, in its channel.
func TestEchoBot(t *testing.T) {
	srv := discordtest.New(t)
	run(t, newAdapter(t, srv, discord.Config{}), echo.New())
	id := srv.Say(discordtest.Message{ChannelID: "3000000000000000001", Content: "hello"})
	p := srv.AwaitPosted(t, 1)[0]
	if p.ChannelID != "3000000000000000001" || p.Content != "You said: hello" || p.ReplyTo != id {
		t.Fatalf("posted %+v, want a reply to %s saying %q", p, id, "You said: hello")
	}
	if p.Nonce == "" {
		t.Error("posted without a nonce: a retried post could appear twice")
	}
}

// A scope per channel (a thread is a channel of its own), with the
// author, the guild and the bot.
func TestScopePerChannel(t *testing.T) {
	srv := discordtest.New(t)
	app, ch := recording()
	run(t, newAdapter(t, srv, discord.Config{}), app)
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", GuildID: guild, Username: "ada", Content: "one"})
	srv.Say(discordtest.Message{ChannelID: "3000000000000000002", GuildID: guild, Username: "bob", Content: "in a thread"})
	srv.Say(discordtest.Message{ChannelID: "3000000000000000003", Username: "cy", Content: "dm"})
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", GuildID: guild, Username: "bob", Content: "two"})
	got := map[string]seen{} // three channels run in parallel: by text
	for range 4 {
		s := next(t, ch)
		got[s.msg.Content] = s
	}
	a, thread, dm, b := got["one"], got["in a thread"], got["dm"], got["two"]
	if a.scope != b.scope || a.scope == thread.scope || a.scope == dm.scope {
		t.Fatal("want one scope per channel")
	}
	if s := a.scope; s.Type != discord.Protocol || s.Chat.ID != "3000000000000000001" || s.Chat.Type != "guild" ||
		s.Team != guild || s.User.Username != "ada" || s.User.Name != "Ada" || s.Bot.ID != discordtest.BotID {
		t.Errorf("guild channel scope: %+v", s)
	}
	if s := dm.scope; s.Chat.Type != "dm" || s.Team != "" {
		t.Errorf("direct message scope: %+v", s)
	}
	if m := a.msg; m.GuildID != guild || m.AuthorID == "" || !strings.Contains(m.Raw, `"content":"one"`) {
		t.Errorf("message %+v: want its guild, author and raw JSON", m)
	}
}

// The bot's own messages are never delivered, other bots' only with
// answer_bots.
func TestOwnAndOtherBotsMessagesSkipped(t *testing.T) {
	for _, answerBots := range []bool{false, true} {
		srv := discordtest.New(t)
		app, ch := recording()
		run(t, newAdapter(t, srv, discord.Config{AnswerBots: answerBots}), app)
		const c = "3000000000000000001"
		srv.Say(discordtest.Message{ChannelID: c, AuthorID: discordtest.BotID, Username: "switchboard", Bot: true, Content: "own"})
		srv.Say(discordtest.Message{ChannelID: c, AuthorID: "500", Username: "otherbot", Bot: true, Content: "other bot"})
		srv.Say(discordtest.Message{ChannelID: c, Content: "user"})
		want := []string{"user"}
		if answerBots {
			want = []string{"other bot", "user"}
		}
		for _, w := range want {
			if s := next(t, ch); s.msg.Content != w {
				t.Fatalf("answer_bots %v: got %q, want %q", answerBots, s.msg.Content, w)
			}
		}
	}
}

// Without the message_content intent, Discord withholds guild messages'
// text; the adapter asks for the intents configured.
func TestIntents(t *testing.T) {
	srv := discordtest.New(t)
	app, ch := recording()
	run(t, newAdapter(t, srv, discord.Config{Intents: []string{"guilds", "guild_messages"}}), app)
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", GuildID: guild, Content: "secret"})
	if s := next(t, ch); s.msg.Content != "" {
		t.Fatalf("content %q arrived without the message_content intent", s.msg.Content)
	}
}

// Two shards of one bot: Discord sends a guild's messages to shard
// (guild_id >> 22) % 2, and each adapter takes its own.
func TestShards(t *testing.T) {
	srv := discordtest.New(t, discordtest.WithShards(2))
	const shard1, shard0 = "4194304", "41943040" // 1<<22 and 10<<22
	apps := make([]chan seen, 2)
	for id := range 2 {
		app, ch := recording()
		apps[id] = ch
		run(t, newAdapter(t, srv, discord.Config{Shard: discord.Shard{ID: id, Count: 2}}), app)
	}
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", GuildID: shard0, Content: "to shard 0"})
	srv.Say(discordtest.Message{ChannelID: "3000000000000000002", GuildID: shard1, Content: "to shard 1"})
	srv.Say(discordtest.Message{ChannelID: "3000000000000000003", Content: "a dm, to shard 0"})
	// Two channels, so two conversations in parallel: in either order.
	if got := next(t, apps[0]).msg.Content + ", " + next(t, apps[0]).msg.Content; got != "to shard 0, a dm, to shard 0" && got != "a dm, to shard 0, to shard 0" {
		t.Fatalf("shard 0 got %q", got)
	}
	if s := next(t, apps[1]); s.msg.Content != "to shard 1" {
		t.Fatalf("shard 1 got %q", s.msg.Content)
	}
	quiet(t, apps[1], 100*time.Millisecond)
	shards := map[[2]int]bool{}
	for _, sh := range srv.Shards() {
		shards[sh] = true
	}
	if !shards[[2]int{0, 2}] || !shards[[2]int{1, 2}] {
		t.Fatalf("sessions' shards %v, want [0 2] and [1 2]", shards)
	}
}

// A token Discord refuses stops Serve with ErrAuth at once, and neither
// that nor anything else the adapter logs holds the token.
func TestBadTokenFailsAndTokenIsNeverLogged(t *testing.T) {
	srv := discordtest.New(t)
	var logs logtest.Buffer
	cfg := discord.Config{Token: "Bot wrong.token.value", APIURL: srv.APIURL()}
	a, err := discord.New("discord", cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(a, adapters.WithLogger(logs.Logger()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Run(ctx, echo.New()); !errors.Is(err, discord.ErrAuth) {
		t.Fatalf("Run: %v, want ErrAuth", err)
	}

	// A working run, with a drop, a refusal and a shutdown, logged.
	good := newAdapter(t, srv, discord.Config{})
	hh := run(t, good, echo.New(), adapters.WithLogger(logs.Logger()))
	srv.Refuse("3000000000000000001", discord.CodeMissingPermissions)
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", Content: "x"})
	srv.Drop()
	srv.Await(t, "a RESUME", func(c discordtest.Counts) bool { return c.Resumes == 1 })
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = hh.Shutdown(sctx)
	for _, secret := range []string{srv.Token(), "wrong.token.value"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a token is in the log:\n%s", logs.String())
		}
	}
	c := discord.Config{Token: discord.Secret(srv.Token())}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, srv.Token()) {
		t.Fatalf("a Config prints its token: %s", s)
	}
}
