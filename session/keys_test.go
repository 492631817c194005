package session_test

import (
	"testing"

	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
)

func TestKeys(t *testing.T) {
	s := &scope.Scope{Type: "telegram", Adapter: "tg:main", Key: "42", User: scope.User{ID: "7"}}
	if got := session.ConversationKey(s); got != "conv:tg%3Amain:42" {
		t.Errorf("ConversationKey = %q", got)
	}
	if got := session.UserKey(s); got != "user:tg%3Amain:7" {
		t.Errorf("UserKey = %q", got)
	}
	if got := session.UserKey(&scope.Scope{Type: "websocket", Key: "c1"}); got != "" {
		t.Errorf("UserKey of a scope without a user = %q; want empty", got)
	}
}
