package slack_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
)

type status struct{ got, want int }

// badRequests sends every kind of bad request to an http-mode adapter and
// returns what each was answered, with the status it should have had.
func badRequests(t testing.TB, e *env) map[string]status {
	t.Helper()
	f := e.fake
	events := e.endpoint + "/slack/events"
	msg := f.Message("CBAD", "UBAD", "must never arrive")
	out := map[string]status{}
	res, _ := f.PostEvent(t, events, msg, fakeslack.WithSecret("wrong-secret"))
	out["wrong signature"] = status{res.Status, http.StatusUnauthorized}
	res, _ = f.PostEvent(t, events, msg, fakeslack.SignedAt(time.Now().Add(-10*time.Minute)))
	out["old timestamp"] = status{res.Status, http.StatusUnauthorized}
	res, _ = f.PostEvent(t, events, msg, fakeslack.WithSignature("v0=00"))
	out["garbage signature"] = status{res.Status, http.StatusUnauthorized}
	res = f.PostSigned(t, events, "application/json", []byte(`{"type":"event_callback","event":{`))
	out["malformed JSON"] = status{res.Status, http.StatusBadRequest}
	res = f.PostSigned(t, events, "application/json", []byte(`{"type":"no_such_type","team_id":"T"}`))
	out["unknown payload type"] = status{res.Status, http.StatusBadRequest}
	res = f.PostSigned(t, events, "application/json", []byte(`{"type":"event_callback","team_id":"T","event":{"text":"no type"}}`))
	out["event without type"] = status{res.Status, http.StatusBadRequest}
	big := strings.Repeat("x", 2<<20)
	res, _ = f.PostEvent(t, events, map[string]any{"type": "message", "channel": "CBAD", "text": big})
	out["oversized body"] = status{res.Status, http.StatusRequestEntityTooLarge}
	res = f.PostCommand(t, e.endpoint+"/slack/commands", f.Command("CBAD", "UBAD", "/x", ""), fakeslack.WithSecret("nope"))
	out["command, wrong signature"] = status{res.Status, http.StatusUnauthorized}
	res = f.PostCommand(t, e.endpoint+"/slack/commands", map[string]string{"text": "no command"})
	out["command without command"] = status{res.Status, http.StatusBadRequest}
	res = f.PostInteraction(t, e.endpoint+"/slack/interactivity", f.BlockAction("CBAD", "UBAD", "a", "v", "1.1"),
		fakeslack.SignedAt(time.Now().Add(-time.Hour)))
	out["interaction, old timestamp"] = status{res.Status, http.StatusUnauthorized}
	res = f.PostSigned(t, e.endpoint+"/slack/interactivity", "application/x-www-form-urlencoded", []byte("payload=%7Bnot-json"))
	out["interaction, malformed"] = status{res.Status, http.StatusBadRequest}
	return out
}
