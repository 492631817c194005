package xmpp_test

import (
	"strconv"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/xmpp/xmpptest"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// BenchmarkRoomEcho measures messages through a real prosody, the
// adapter and the echo bot and back, 32 in flight: each answer is
// confirmed by the server (a ping after it) before the next of its
// conversation goes.
func BenchmarkRoomEcho(b *testing.B) {
	srv := xmpptest.Start(b)
	alice := srv.Dial(b, "alice")
	alice.Join("lobby", "alice")
	runHost(b, botConfig(srv, "lobby"), echo.New(), nil, nil)
	occupant := "lobby@" + xmpptest.MUC + "/bot"
	alice.Presence("", occupant)
	// At most window messages in flight: a burst past the room's inbox
	// (scopes.inbox_size, 64 by default) would be dropped, not queued.
	const window = 32
	answer := func() {
		if m := alice.From(occupant); m.Body == "" {
			b.Fatal("an empty answer")
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if i >= window {
			answer()
		}
		alice.SayRoom("lobby", strconv.Itoa(i))
	}
	for range min(b.N, window) {
		answer()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
