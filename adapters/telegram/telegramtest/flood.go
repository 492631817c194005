package telegramtest

import (
	"math"
	"time"
)

// WithFloodControl makes the fake keep Telegram's documented message
// limits, answering a message over them 429 "Too Many Requests: retry
// after N" with parameters.retry_after, as the Bot API does: 30 messages
// a second for the bot, one a second to a private chat, 20 a minute to a
// group. The windows are a tenth shorter than Telegram's (900 ms, 54 s),
// so that a client spacing its messages exactly is not refused for the
// jitter between its clock and their arrival. The windows are counted on
// the server's clock (WithClock). Default: no limits.
func WithFloodControl() Option {
	return func(s *Server) { s.flood = &floodControl{chats: map[int64][]time.Time{}} }
}

// Limits kept by WithFloodControl.
const (
	FloodGlobal      = 30 // messages per second, for the bot
	FloodPrivateChat = 1  // messages per second, to one private chat
	FloodGroup       = 20 // messages per minute, to one group
)

type floodControl struct {
	all     []time.Time           // the bot's recent messages
	chats   map[int64][]time.Time // each chat's recent messages
	refused int
}

// messages are the methods that count against the limits.
var messages = map[string]bool{"sendMessage": true, "sendPhoto": true, "sendDocument": true}

// checkLocked records a message to chat at now, or returns the seconds to
// wait when it is over a limit.
func (f *floodControl) checkLocked(chat int64, now time.Time) (retryAfter int) {
	over := func(times []time.Time, n int, window time.Duration) ([]time.Time, time.Duration) {
		i := 0
		for i < len(times) && now.Sub(times[i]) >= window {
			i++
		}
		times = times[i:]
		if len(times) >= n {
			return times, window - now.Sub(times[len(times)-n])
		}
		return times, 0
	}
	var wait, w time.Duration
	f.all, wait = over(f.all, FloodGlobal, 900*time.Millisecond)
	if chat > 0 {
		f.chats[chat], w = over(f.chats[chat], FloodPrivateChat, 900*time.Millisecond)
	} else {
		f.chats[chat], w = over(f.chats[chat], FloodGroup, 54*time.Second)
	}
	wait = max(wait, w)
	if wait > 0 {
		f.refused++
		return max(1, int(math.Ceil(wait.Seconds())))
	}
	f.all = append(f.all, now)
	f.chats[chat] = append(f.chats[chat], now)
	return 0
}

// Floods returns how many messages WithFloodControl refused with 429.
func (s *Server) Floods() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flood == nil {
		return 0
	}
	return s.flood.refused
}
