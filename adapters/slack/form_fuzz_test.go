package slack

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/switchboard-bots/switchboard/event"
)

// Form bodies as Slack posts them over HTTP: slash commands
// (application/x-www-form-urlencoded fields) and interactivity requests
// (one form field, payload=, holding JSON).
var seedForms = []string{
	"token=t&team_id=T1&team_domain=acme&channel_id=C1&channel_name=general&user_id=U1&user_name=ann&command=%2Fdeploy&text=prod+now&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1&trigger_id=13.1.a&api_app_id=A1",
	"team_id=T1&channel_id=D1&user_id=U1&command=%2Fx&text=h%C3%A9llo+%F0%9F%98%80",
	"team_id=T1&channel_id=G1&command=%2Fx&text=%25zz&text=second",
	"command=%2Fx&channel_id=C1",
	"team_id=T1&channel_id=C1&command=",
	"payload=" + url.QueryEscape(`{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"channel":{"id":"C1","name":"general"},"container":{"message_ts":"1.1","thread_ts":"1.0"},"response_url":"https://r","trigger_id":"t","actions":[{"action_id":"a","block_id":"b","value":"v"}]}`),
	"payload=" + url.QueryEscape(`{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"container":{"channel_id":"C2"},"message":{"ts":"2.2"},"actions":[{"action_id":"s","selected_option":{"value":"opt"}}]}`),
	"payload=" + url.QueryEscape(`{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},"view":{"id":"V1"}}`),
	"payload=" + url.QueryEscape(`{"type":"block_actions"}`),
	"payload=%7Bnot+json", "payload=%zz", "payload=", "", "&&==;", "a=%",
}

// FuzzForms feeds arbitrary bodies to the slash command and interactivity
// decoding of the HTTP handlers (serveCommand, serveInteraction): none may
// panic, and whatever they accept carries the form's own fields and
// crosses a channel layer.
func FuzzForms(f *testing.F) {
	for _, s := range seedForms {
		f.Add([]byte(s))
	}
	a, err := New(Config{BotToken: "xoxb-1", AppToken: "xapp-1"})
	if err != nil {
		f.Fatal(err)
	}
	a.bot = Identity{UserID: "U0", BotID: "B0"}
	f.Fuzz(func(t *testing.T, body []byte) {
		var results []inbound
		// As serveCommand does.
		r, err := http.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cmd, err := slackapi.SlashCommandParse(r); err == nil {
			if in, err := decodeCommand(cmd); err == nil {
				form, _ := url.ParseQuery(string(body))
				c := in.ev.(Command)
				if c.Command != form.Get("command") || c.Text != form.Get("text") || c.Team != form.Get("team_id") || c.Channel != form.Get("channel_id") {
					t.Fatalf("%q became %+v", body, c)
				}
				if c.Command == "" || !strings.HasPrefix(c.ChatText(), c.Command) {
					t.Fatalf("command line %q of %+v", c.ChatText(), c)
				}
				results = append(results, in)
			}
		}
		// As serveInteraction does.
		if form, err := url.ParseQuery(string(body)); err == nil {
			if in, err := decodeInteraction([]byte(form.Get("payload"))); err == nil {
				i := in.ev.(Interaction)
				if i.Kind == "" || i.Team == "" || string(i.Raw) != form.Get("payload") {
					t.Fatalf("%q became %+v", body, i)
				}
				results = append(results, in)
			}
		}
		for _, in := range results {
			if k := a.key(&in); !strings.HasPrefix(k, in.team+":") {
				t.Fatalf("key %q for team %q", k, in.team)
			}
			if s := a.newScope(&in)(); s.Type != Protocol || s.Team != in.team || s.Chat.ID != in.channel {
				t.Fatalf("scope %+v of %+v", s, in)
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
