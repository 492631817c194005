package session

import (
	"strings"

	"github.com/switchboard-bots/switchboard/scope"
)

// ConversationKey is the key of the conversation of s: its adapter and its
// conversation key, which an adapter derives from the platform's own ids
// (a Telegram chat, a Slack channel or thread), so that the same
// conversation has the same key after a restart and in every process.
func ConversationKey(s *scope.Scope) string {
	return "conv:" + escape(adapterOf(s)) + ":" + s.Key
}

// UserKey is the key of the user of s: the application's user id when
// middleware set one (see WithUser), otherwise the platform's user id
// qualified by the adapter. It is "" when s has no user (a WebSocket
// connection nobody authenticated).
func UserKey(s *scope.Scope) string {
	if id, ok := s.Value(userKey{}).(string); ok && id != "" {
		return "user:" + id
	}
	if s.User.ID == "" {
		return ""
	}
	return "user:" + escape(adapterOf(s)) + ":" + s.User.ID
}

func adapterOf(s *scope.Scope) string {
	if s.Adapter != "" {
		return s.Adapter
	}
	return s.Type
}

// escape keeps an adapter name from running into the part after it.
func escape(s string) string { return strings.ReplaceAll(s, ":", "%3A") }
