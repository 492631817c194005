package slack

import (
	"encoding/json"
	"testing"

	"github.com/slack-go/slack/socketmode"

	"github.com/switchboard-bots/switchboard/event"
)

// FuzzDecode feeds arbitrary envelopes to the Socket Mode envelope
// decoder and arbitrary bodies to the Events API and interaction decoders:
// none may panic, and whatever they accept must cross a channel layer.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"envelope_id":"e1","type":"events_api","payload":{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.1","files":[{"id":"F1","name":"a.txt","size":3}]}}}`,
		`{"envelope_id":"e2","type":"events_api","payload":{"type":"event_callback","team_id":"T1","event":{"type":"app_mention","channel":"C1","user":"U1","text":"<@U0>","ts":"1.2","thread_ts":"1.0"}}}`,
		`{"envelope_id":"e3","type":"events_api","payload":{"type":"event_callback","team_id":"T1","event":{"type":"reaction_added","user":"U1","reaction":"+1","item":{"type":"message","channel":"C1","ts":"1.1"}}}}`,
		`{"envelope_id":"e4","type":"events_api","payload":{"type":"event_callback","team_id":"T1","event":{"type":"team_join","user":{"id":"U2"}}}}`,
		`{"envelope_id":"e5","type":"slash_commands","payload":{"team_id":"T1","channel_id":"C1","user_id":"U1","command":"/x","text":"y","response_url":"http://r"}}`,
		`{"envelope_id":"e6","type":"interactive","payload":{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"channel":{"id":"C1"},"container":{"message_ts":"1.1"},"actions":[{"action_id":"a","value":"v"}]}}`,
		`{"envelope_id":"e7","type":"events_api","payload":{"type":"url_verification","challenge":"c"}}`,
		`{"envelope_id":"e8","type":"events_api","payload":{"type":"event_callback","event":null}}`,
		`{"envelope_id":"e9","type":"events_api","payload":"not an object"}`,
		`{"type":"hello"}`, `[]`, `null`, `{`,
	} {
		f.Add([]byte(seed))
	}
	a, err := New(Config{BotToken: "xoxb-1", AppToken: "xapp-1"})
	if err != nil {
		f.Fatal(err)
	}
	a.bot = Identity{UserID: "U0", BotID: "B0"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var results []inbound
		var req socketmode.Request
		if json.Unmarshal(data, &req) == nil {
			if in, err := a.decodeEnvelope(&req); err == nil {
				results = append(results, in)
			}
		}
		if in, err := a.decodeEventsAPI(data); err == nil {
			results = append(results, in)
		}
		if in, err := decodeInteraction(data); err == nil {
			results = append(results, in)
		}
		for _, in := range results {
			if in.ev == nil {
				continue
			}
			_ = a.key(&in)
			s := a.newScope(&in)()
			if s.Type != Protocol {
				t.Fatalf("scope type %q", s.Type)
			}
			b, err := event.Marshal(in.ev)
			if err != nil {
				t.Fatalf("%s does not encode: %v", in.ev.Type(), err)
			}
			if m, err := event.Unmarshal(b); err != nil || m.Type() != in.ev.Type() {
				t.Fatalf("%s does not decode: %v", in.ev.Type(), err)
			}
		}
	})
}
