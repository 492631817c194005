package discord_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/scope"
)

// The Gateway drops mid-stream: of twenty messages, ten were dispatched
// on the connection, ten while it was down. The adapter resumes its
// session, Discord replays what came after the last sequence number it
// took, and the bot handles each message once, in order.
func TestResumeAfterDropLosesNothingAndHandlesNothingTwice(t *testing.T) {
	srv := discordtest.New(t)
	app, ch := recording()
	run(t, newAdapter(t, srv, discord.Config{}), app)
	const channel = "3000000000000000001"
	var ids []string
	say := func(i int) {
		ids = append(ids, srv.Say(discordtest.Message{ChannelID: channel, GuildID: guild, Content: fmt.Sprint(i)}))
	}
	for i := range 10 {
		say(i)
	}
	srv.Outage(func() {
		for i := 10; i < 20; i++ {
			say(i)
		}
	})
	var got []string
	for range 20 {
		got = append(got, next(t, ch).msg.ID)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("handled %v, want each of %v once, in order", got, ids)
	}
	quiet(t, ch, 200*time.Millisecond)
	if c := srv.Counts(); c.Identifies != 1 || c.Resumes != 1 || c.Replayed < 10 {
		t.Fatalf("%+v: want the session identified once, resumed once, and at least the ten messages of the outage replayed", c)
	}
}

// RECONNECT (op 7) and a resumable INVALID_SESSION are followed by a
// RESUME on a new connection, which closed the old one with a code that
// keeps the session.
func TestReconnectAndResumableInvalidSessionResume(t *testing.T) {
	srv := discordtest.New(t)
	app, ch := recording()
	run(t, newAdapter(t, srv, discord.Config{}), app)
	srv.Reconnect()
	srv.Await(t, "a RESUME after op 7", func(c discordtest.Counts) bool { return c.Resumes == 1 && c.Connected == 1 })
	srv.InvalidateSessions(true)
	srv.Await(t, "a RESUME after op 9 (resumable)", func(c discordtest.Counts) bool { return c.Resumes == 2 && c.Connected == 1 })
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", Content: "still here"})
	if s := next(t, ch); s.msg.Content != "still here" {
		t.Fatalf("got %q", s.msg.Content)
	}
	c := srv.Counts()
	if c.Identifies != 1 {
		t.Errorf("%d IDENTIFYs, want 1: the session should have been resumed", c.Identifies)
	}
	for _, code := range c.Closes {
		if code == 1000 || code == 1001 {
			t.Errorf("the adapter closed with %d, which ends the session it means to resume", code)
		}
	}
}

// An INVALID_SESSION that cannot be resumed: the adapter waits 1 to 5 s
// on its clock, as Discord asks, then identifies anew.
func TestInvalidSessionIdentifiesAnewAfterAWait(t *testing.T) {
	srv := discordtest.New(t)
	clock := clocktest.New(time.Unix(1_000_000, 0))
	app, ch := recording()
	run(t, newAdapter(t, srv, discord.Config{}, discord.WithClock(clock)), app)
	clock.NextWait(t) // the first heartbeat's
	srv.InvalidateSessions(false)
	if d := clock.NextWait(t); d < time.Second || d >= 5*time.Second {
		t.Fatalf("waited %v before a new IDENTIFY, want 1 to 5 s", d)
	}
	if c := srv.Counts(); c.Identifies != 1 {
		t.Fatalf("identified again before the wait: %d IDENTIFYs", c.Identifies)
	}
	clock.Advance(5 * time.Second)
	srv.Await(t, "a second IDENTIFY", func(c discordtest.Counts) bool { return c.Identifies == 2 && c.Connected == 1 })
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", Content: "new session"})
	if s := next(t, ch); s.msg.Content != "new session" {
		t.Fatalf("got %q", s.msg.Content)
	}
}

// Heartbeats go every interval, each acknowledged; when an ACK fails to
// come, the next heartbeat finds the connection a zombie and the adapter
// resumes on a new one.
func TestHeartbeatsAndZombieConnection(t *testing.T) {
	srv := discordtest.New(t, discordtest.WithHeartbeat(time.Minute))
	clock := clocktest.New(time.Unix(1_000_000, 0))
	app, ch := recording()
	run(t, newAdapter(t, srv, discord.Config{}, discord.WithClock(clock)), app)
	if d := clock.NextWait(t); d < 0 || d >= time.Minute {
		t.Fatalf("first heartbeat after %v, want a random part of the 1m interval", d)
	}
	for i := 1; i <= 3; i++ {
		clock.Advance(time.Minute)
		if d := clock.NextWait(t); d != time.Minute {
			t.Fatalf("after heartbeat %d: next after %v, want 1m", i, d)
		}
		srv.Await(t, fmt.Sprintf("heartbeat %d", i), func(c discordtest.Counts) bool { return c.Heartbeats == i })
		// The ACK comes before this message on the connection: once the
		// bot has it, the adapter has read the ACK.
		srv.Say(discordtest.Message{ChannelID: "3000000000000000001", Content: fmt.Sprint(i)})
		next(t, ch)
	}
	srv.StopAcks()
	clock.Advance(time.Minute)
	clock.NextWait(t)
	srv.Await(t, "heartbeat 4, unanswered", func(c discordtest.Counts) bool { return c.Heartbeats == 4 })
	clock.Advance(time.Minute) // heartbeat 5 finds no ACK for 4
	srv.Await(t, "a RESUME after the zombie connection", func(c discordtest.Counts) bool { return c.Resumes == 1 && c.Connected == 1 })
	c := srv.Counts()
	if c.Heartbeats != 4 || c.Identifies != 1 || slices.Contains(c.Closes, 1000) || slices.Contains(c.Closes, 1001) {
		t.Fatalf("%+v: want 4 heartbeats, one session, and no close with 1000 or 1001, which would end it", c)
	}
}

// While the Gateway refuses connections, the adapter tries again at once,
// then after 1 s, 2 s, 4 s on its clock; once in, it resumes the session.
func TestReconnectBackoff(t *testing.T) {
	srv := discordtest.New(t)
	clock := clocktest.New(time.Unix(1_000_000, 0))
	app, ch := recording()
	run(t, newAdapter(t, srv, discord.Config{}, discord.WithClock(clock)), app)
	clock.NextWait(t) // the first heartbeat's
	srv.Unavailable(true)
	srv.Drop()
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if d := clock.NextWait(t); d != want {
			t.Fatalf("waited %v before trying again, want %v", d, want)
		}
		clock.Advance(want)
	}
	if d := clock.NextWait(t); d != 8*time.Second {
		t.Fatalf("waited %v, want 8s", d)
	}
	srv.Unavailable(false)
	srv.Say(discordtest.Message{ChannelID: "3000000000000000001", Content: "said while down"})
	clock.Advance(8 * time.Second)
	if s := next(t, ch); s.msg.Content != "said while down" {
		t.Fatalf("got %q", s.msg.Content)
	}
	if c := srv.Counts(); c.Resumes != 1 || c.Identifies != 1 {
		t.Fatalf("%+v: want the session resumed", c)
	}
}

// gate is a bot whose handlers wait until the test opens the gate.
type gate struct {
	consumer.Chat
	open <-chan struct{}
	seen chan<- string
}

func (g *gate) message(ctx context.Context, m consumer.ChatMessage) error {
	<-g.open
	g.seen <- m.ChatText()
	return nil
}

// A conversation whose inbox is full holds the reading of the Gateway
// back instead of dropping: once its handler goes on, every message comes,
// in order, on the same connection.
func TestFullInboxHoldsTheGatewayBack(t *testing.T) {
	srv := discordtest.New(t)
	open, seen := make(chan struct{}), make(chan string, 100)
	app := consumer.New(func() *gate { return &gate{open: open, seen: seen} }, consumer.OnMessage((*gate).message))
	run(t, newAdapter(t, srv, discord.Config{}), app, adapters.WithScopes(scope.Config{IdleTimeout: -1, InboxSize: 2}))
	for i := range 20 {
		srv.Say(discordtest.Message{ChannelID: "3000000000000000001", Content: fmt.Sprint(i)})
	}
	close(open)
	for i := range 20 {
		select {
		case text := <-seen:
			if text != fmt.Sprint(i) {
				t.Fatalf("got %q, want %d", text, i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d never came", i)
		}
	}
	if c := srv.Counts(); c.Resumes != 0 || c.Identifies != 1 {
		t.Fatalf("%+v: the connection was dropped while the inbox was full", c)
	}
}
