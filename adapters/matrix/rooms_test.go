package matrix_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/internal/logtest"
)

// TestEcho: the built-in echo bot answers on Matrix, in the room it was
// spoken to, and never answers its own answers.
func TestEcho(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	run(t, newAdapter(t, testConfig(srv), nil), echo.New())
	srv.Say(roomOf("a"), user, "hello")
	sent, err := srv.AwaitSent(1, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].Room != roomOf("a") || sent[0].Body() != "You said: hello" {
		t.Fatalf("got %q in %s, want %q in %s", sent[0].Body(), sent[0].Room, "You said: hello", roomOf("a"))
	}
	// The answer comes back in the bot's timeline; were it handled, the
	// bot would answer it. One more message shows the loop is quiet.
	srv.Say(roomOf("a"), user, "again")
	if sent, err = srv.AwaitSent(2, timeout); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 || sent[1].Body() != "You said: again" {
		t.Fatalf("sent %d events, last %q: the bot answered itself", len(sent), sent[len(sent)-1].Body())
	}
}

// TestJoinOnInvite: an invite is joined, and the room's messages reach
// the bot.
func TestJoinOnInvite(t *testing.T) {
	srv := matrixtest.New(t)
	rec := newRecorder()
	run(t, newAdapter(t, testConfig(srv), nil), rec)
	srv.Invite(roomOf("new"), user, false)
	if err := srv.AwaitJoined(roomOf("new"), timeout); err != nil {
		t.Fatal(err)
	}
	srv.Say(roomOf("new"), user, "welcome")
	if m := rec.next(t); m.RoomID != roomOf("new") || m.Body != "welcome" || m.Sender != user {
		t.Fatalf("got %+v", m)
	}
}

// TestEncryptedRoomRefused: a room that turns encryption on, and an
// invite to an encrypted room, get a clear notice and a log line; the
// encrypted messages after it are logged, not silently dropped.
func TestEncryptedRoomRefused(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	srv.Joined(roomOf("b"))
	var logs logtest.Buffer
	rec := newRecorder()
	run(t, newAdapter(t, testConfig(srv), &logs), rec)
	srv.Encrypt(roomOf("a"), user)
	srv.Post(roomOf("a"), user, "m.room.encrypted", map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA"})
	srv.Invite(roomOf("secret"), user, true)
	sent, err := srv.AwaitSent(2, timeout)
	if err != nil {
		t.Fatal(err)
	}
	rooms := map[string]bool{}
	for _, s := range sent {
		rooms[s.Room] = true
		if s.Content["msgtype"] != "m.notice" || !strings.Contains(s.Body(), "does not support encryption") {
			t.Errorf("notice in %s: %v, want an m.notice saying encryption is not supported", s.Room, s.Content)
		}
	}
	if !rooms[roomOf("a")] || !rooms[roomOf("secret")] {
		t.Errorf("notices went to %v, want both rooms", rooms)
	}
	logs.Await(t, "end-to-end encrypted", timeout)
	logs.Await(t, "encrypted message not handled", timeout)
	srv.Encrypt(roomOf("a"), user) // told once is enough
	srv.Say(roomOf("b"), user, "after the second m.room.encryption")
	rec.next(t) // the sync that brought it was taken whole
	notices := 0
	for _, s := range srv.Sent() {
		if s.Content["msgtype"] == "m.notice" {
			notices++
		}
	}
	if notices != 2 {
		t.Errorf("%d notices, want 2", notices)
	}
}

// TestThreads: with threads on, each thread is a conversation of its
// own, and chat.say and replies go into it.
func TestThreads(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	cfg := testConfig(srv)
	cfg.Threads = true
	rec := newRecorder()
	run(t, newAdapter(t, cfg, nil), rec)
	root := srv.Say(roomOf("a"), user, "root")
	main := rec.next(t)
	srv.SayInThread(roomOf("a"), user, root, "in thread")
	inThread := rec.next(t)
	if main.Thread != "" || inThread.Thread != root {
		t.Fatalf("threads %q and %q, want none and %q", main.Thread, inThread.Thread, root)
	}
	sent, err := srv.AwaitSent(2, timeout)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sent {
		rel, _ := s.Content["m.relates_to"].(map[string]any)
		if s.Body() == "echo: in thread" && (rel["rel_type"] != "m.thread" || rel["event_id"] != root) {
			t.Errorf("the answer in the thread relates %v, want the thread of %s", rel, root)
		}
	}
}

// TestThreadScopes: with threads on, a thread and its room are two
// scopes; with threads off, one.
func TestThreadScopes(t *testing.T) {
	for _, threads := range []bool{false, true} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			srv := matrixtest.New(t)
			srv.Joined(roomOf("a"))
			cfg := testConfig(srv)
			cfg.Threads = threads
			rec := newRecorder()
			r := run(t, newAdapter(t, cfg, nil), rec)
			root := srv.Say(roomOf("a"), user, "root")
			rec.next(t)
			srv.SayInThread(roomOf("a"), user, root, "reply")
			rec.next(t)
			want := 1
			if threads {
				want = 2
			}
			if n := r.host.Len(); n != want {
				t.Errorf("%d live scopes, want %d", n, want)
			}
		})
	}
}

// TestBadEventsSkipped: events the adapter cannot read are logged and
// skipped one by one; the sync goes on and the next message arrives.
func TestBadEventsSkipped(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	var logs logtest.Buffer
	rec := newRecorder()
	run(t, newAdapter(t, testConfig(srv), &logs), rec)
	srv.Post(roomOf("a"), user, "m.room.message", "not an object")
	srv.Post(roomOf("a"), user, "m.room.message", map[string]any{"msgtype": "m.text", "body": 42})
	srv.Post(roomOf("a"), user, "m.room.message", map[string]any{"msgtype": "m.notice", "body": "from a bot"})
	srv.Say(roomOf("a"), user, "fine")
	if m := rec.next(t); m.Body != "fine" {
		t.Fatalf("got %q, want the good message", m.Body)
	}
	logs.Await(t, "malformed event skipped", timeout)
	logs.Await(t, "bad message skipped", timeout)
}
