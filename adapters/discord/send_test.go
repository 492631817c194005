package discord_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

func push(t *testing.T, h *adapters.Host, ev event.Event) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.Push(ctx, ev)
}

// Discord's JSON errors come back as typed refusals with Discord's code.
func TestRefusals(t *testing.T) {
	srv := discordtest.New(t)
	h := run(t, newAdapter(t, srv, discord.Config{}), echo.New())
	for _, tc := range []struct {
		code   int
		status int
		text   string
	}{
		{discord.CodeMissingPermissions, 403, "Missing Permissions"},
		{discord.CodeMissingAccess, 403, "Missing Access"},
		{discord.CodeUnknownChannel, 404, "Unknown Channel"},
		{discord.CodeCannotMessageUser, 403, "Cannot send messages to this user"},
	} {
		srv.Refuse("3000000000000000001", tc.code)
		err := push(t, h, discord.Send{ChannelID: "3000000000000000001", Content: "hi"})
		var r *adapters.RefusedError
		var api *discord.APIError
		if !errors.As(err, &r) || !errors.As(err, &api) || !errors.Is(err, adapters.ErrRefused) {
			t.Fatalf("code %d: %v, want a RefusedError wrapping an APIError", tc.code, err)
		}
		if r.Adapter != "discord" || r.Method != "POST /channels/{channel.id}/messages" || r.Code != strconv.Itoa(tc.code) ||
			r.Description != tc.text || r.Temporary || api.Status != tc.status || api.Code != tc.code {
			t.Errorf("code %d: %+v %+v", tc.code, r, api)
		}
	}
	srv.Refuse("3000000000000000001", 0)
	err := push(t, h, discord.Send{ChannelID: "3000000000000000001", Content: ""})
	var r *adapters.RefusedError
	if !errors.As(err, &r) || r.Code != "50035" {
		t.Fatalf("an empty message: %v, want refused with 50035", err)
	}
	if err := push(t, h, discord.Send{Content: "nowhere"}); err == nil || errors.Is(err, adapters.ErrRefused) {
		t.Fatalf("a push without a channel: %v, want an error of the caller's", err)
	}
	if len(srv.Posted()) != 0 {
		t.Fatalf("posted %v", srv.Posted())
	}
}

// A text over 2000 characters goes as several messages, cut at line
// breaks or spaces, the first of them the reply.
func TestLongTextIsSplit(t *testing.T) {
	srv := discordtest.New(t)
	h := run(t, newAdapter(t, srv, discord.Config{}), echo.New())
	words := strings.Repeat("Grüße 東京 ", 450) // 4050 characters
	text := "first line\n" + words + "\nend"
	if err := push(t, h, discord.Send{ChannelID: "3000000000000000001", Content: text, ReplyTo: "42"}); err != nil {
		t.Fatal(err)
	}
	posted := srv.Posted()
	if len(posted) != 3 {
		t.Fatalf("%d messages, want 3", len(posted))
	}
	var parts []string
	for i, p := range posted {
		if n := utf8.RuneCountInString(p.Content); n > 2000 {
			t.Errorf("message %d has %d characters", i, n)
		}
		if (i == 0) != (p.ReplyTo == "42") {
			t.Errorf("message %d replies to %q", i, p.ReplyTo)
		}
		parts = append(parts, p.Content)
	}
	if got := strings.Join(parts, " "); strings.ReplaceAll(got, "\n", " ") != strings.ReplaceAll(text, "\n", " ") {
		t.Fatalf("the pieces do not make the text:\n%q", got)
	}
}

// chat.say goes to the scope's channel, as a plain message.
func TestSay(t *testing.T) {
	srv := discordtest.New(t)
	app := sayer()
	run(t, newAdapter(t, srv, discord.Config{}), app)
	srv.Say(discordtest.Message{ChannelID: "3000000000000000007", Content: "x"})
	if p := srv.AwaitPosted(t, 1)[0]; p.ChannelID != "3000000000000000007" || p.Content != "said" || p.ReplyTo != "" {
		t.Fatalf("posted %+v", p)
	}
}

// A discord.send sent by another process to the layer channel
// push.discord, as a generic message, is posted without a scope.
func TestPushThroughTheLayer(t *testing.T) {
	srv := discordtest.New(t)
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	run(t, newAdapter(t, srv, discord.Config{}), echo.New(), adapters.WithPushes(l))
	msg := event.Message{"type": "discord.send", "channel_id": "3000000000000000005", "content": "from a worker"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Send(ctx, adapters.PushChannel("discord"), msg); err != nil {
		t.Fatal(err)
	}
	if p := srv.AwaitPosted(t, 1)[0]; p.ChannelID != "3000000000000000005" || p.Content != "from a worker" {
		t.Fatalf("posted %+v", p)
	}
}

// A post whose answer is lost (502) is made again with the same nonce,
// and Discord answers it with the message it made: posted once.
func TestRetriedPostIsNotPostedTwice(t *testing.T) {
	srv := discordtest.New(t)
	var obs observer
	h := run(t, newAdapter(t, srv, discord.Config{}), echo.New(), adapters.WithObserver(&obs))
	srv.LoseAnswers(1)
	if err := push(t, h, discord.Send{ChannelID: "3000000000000000001", Content: "once"}); err != nil {
		t.Fatal(err)
	}
	if p := srv.Posted(); len(p) != 1 || p[0].Content != "once" {
		t.Fatalf("posted %+v, want one message", p)
	}
	if n := obs.retries.Load(); n != 1 {
		t.Fatalf("%d retries reported, want 1", n)
	}
}
