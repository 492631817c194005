package xmpp_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/xmpp"
	"github.com/switchboard-bots/switchboard/adapters/xmpp/xmpptest"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/internal/logtest"
)

// Prosody is killed with SIGKILL and started again: the adapter
// reconnects after its backoff, rejoins its room, and the room's
// conversation goes on in the same scope.
func TestRejoinAfterServerCrash(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	cfg := botConfig(srv, "lobby")
	cfg.PingInterval = -1 // the clock serves the backoff alone
	clock := clocktest.New(time.Unix(1_000_000, 0))
	app, ch := newProbe()
	runHost(t, cfg, app, nil, []adapters.HostOption{adapters.WithClock(clock)})
	occupant := "lobby@" + xmpptest.MUC + "/bot"
	alice.Presence("", occupant)
	alice.SayRoom("lobby", "before")
	before := next(t, ch)

	srv.Kill()
	srv.Restart()
	if d := clock.NextWait(t); d != time.Second {
		t.Fatalf("the first reconnection waits %v, want 1s", d)
	}
	clock.Advance(time.Second)
	alice = srv.Dial(t, "alice") // her own connection died with the server
	alice.Join("lobby", "alice")
	alice.Presence("", occupant) // the bot is back in the room
	alice.SayRoom("lobby", "after")
	if m := alice.From(occupant); m.Body != "echo: after" {
		t.Fatalf("after the restart: %+v", m)
	}
	if after := next(t, ch); after.scope != before.scope {
		t.Error("the room's scope did not outlive the reconnection")
	}
}

// The stream drops and the adapter rejoins its room; the room replays its
// history (the adapter asks for it here, as a server that ignores a
// request for none sends it): the bot's old messages and the users'
// messages it has answered. None of them reaches the bot again.
func TestRejoinSkipsHistory(t *testing.T) {
	srv := xmpptest.Start(t)
	proxy := srv.Proxy(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	cfg := botConfig(srv, "lobby")
	cfg.Server, cfg.PingInterval = proxy.Addr(), -1
	clock := clocktest.New(time.Unix(1_000_000, 0))
	var logs logtest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app, ch := newProbe()
	runHost(t, cfg, app, log, []adapters.HostOption{adapters.WithClock(clock)}, xmpp.WithHistory())
	occupant := "lobby@" + xmpptest.MUC + "/bot"
	alice.Presence("", occupant)
	for _, text := range []string{"old 1", "old 2"} {
		alice.SayRoom("lobby", text)
		if m := alice.From(occupant); m.Body != "echo: "+text {
			t.Fatalf("before the drop: %+v", m)
		}
		next(t, ch)
	}

	proxy.Drop()
	alice.Presence("unavailable", occupant)
	if d := clock.NextWait(t); d != time.Second {
		t.Fatalf("the first reconnection waits %v, want 1s", d)
	}
	clock.Advance(time.Second)
	alice.Presence("", occupant)
	logs.Await(t, "room history skipped", xmpptest.Timeout)
	alice.SayRoom("lobby", "new")
	if s := next(t, ch); s.text != "new" {
		t.Fatalf("the bot saw %q after rejoining, want only the new message", s.text)
	}
	if m := alice.From(occupant); m.Body != "echo: new" {
		t.Fatalf("the bot's first message after rejoining: %+v", m)
	}
	select {
	case s := <-ch:
		t.Fatalf("the bot saw %q too", s.text)
	default:
	}
}

// A link that dies without a word is found by the keepalive ping: once a
// ping goes unanswered for ping_interval, the adapter drops the stream,
// reconnects and rejoins.
func TestDeadLinkFoundByPing(t *testing.T) {
	srv := xmpptest.Start(t)
	proxy := srv.Proxy(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	cfg := botConfig(srv, "lobby")
	cfg.Server, cfg.PingInterval = proxy.Addr(), 30*time.Second
	clock := clocktest.New(time.Unix(1_000_000, 0))
	app, ch := newProbe()
	runHost(t, cfg, app, nil, []adapters.HostOption{adapters.WithClock(clock)})
	occupant := "lobby@" + xmpptest.MUC + "/bot"
	alice.Presence("", occupant)

	if d := clock.NextWait(t); d != 30*time.Second {
		t.Fatalf("the keepalive waits %v, want 30s", d)
	}
	proxy.Blackhole()
	clock.Advance(30 * time.Second) // the ping goes out, into the hole
	if d := clock.NextWait(t); d != 30*time.Second {
		t.Fatalf("the ping's deadline is %v, want 30s", d)
	}
	clock.Advance(30 * time.Second)
	if d := clock.NextWait(t); d != time.Second {
		t.Fatalf("the first reconnection waits %v, want 1s", d)
	}
	alice.Presence("unavailable", occupant) // the old stream is closed
	clock.Advance(time.Second)
	alice.Presence("", occupant)
	alice.SayRoom("lobby", "still there?")
	if m := alice.From(occupant); m.Body != "echo: still there?" {
		t.Fatalf("after the dead link: %+v", m)
	}
	next(t, ch)
}
