package bridge

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/scope"
)

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"none", Config{}, []string{"no bridges configured"}},
		{"bad name", Config{Bridges: []Bridge{{Name: "go lang", Channels: []string{"irc:#a", "web:/a/"}}}},
			[]string{`bridges[0]: name "go lang"`}},
		{"one channel", Config{Bridges: []Bridge{{Name: "a", Channels: []string{"irc:#a"}}}},
			[]string{"at least two channels, got 1"}},
		{"no adapter", Config{Bridges: []Bridge{{Name: "a", Channels: []string{"#a", "irc:"}}}},
			[]string{`channel "#a" must be adapter:conversation`, `channel "irc:" must be`}},
		{"web without a path", Config{Bridges: []Bridge{{Name: "a", Channels: []string{"irc:#a", "web:lobby"}}}},
			[]string{`channel "web:lobby": a web channel is a path`}},
		{"twice", Config{Bridges: []Bridge{{Name: "a", Channels: []string{"irc:#A", "irc:#a", "web:/a/"}}}},
			[]string{"channel irc:#a is listed twice"}},
		{"same name", Config{Bridges: []Bridge{
			{Name: "a", Channels: []string{"irc:#a", "web:/a/"}}, {Name: "a", Channels: []string{"irc:#b", "web:/b/"}}}},
			[]string{`bridges[1]: name "a" is used twice`}},
		{"negative wait", Config{Bridges: []Bridge{{Name: "a", Channels: []string{"irc:#a", "web:/a/"}}}, SendWait: -1},
			[]string{"send_wait must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil {
				t.Fatal("New accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// A scope is matched to its channel: by adapter name and chat id, IRC
// channels in any case, WebSocket scopes by path whatever the adapter.
func TestChannelOf(t *testing.T) {
	l, err := Config{Bridges: []Bridge{{Name: "a", Channels: []string{"irc:#Go", "tg:-100", "web:/b/"}}}}.links()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    scope.Scope
		want bool
	}{
		{scope.Scope{Type: "irc", Adapter: "irc", Chat: scope.Chat{ID: "#GO"}}, true},
		{scope.Scope{Type: "irc", Adapter: "irc2", Chat: scope.Chat{ID: "#go"}}, false},
		{scope.Scope{Type: "telegram", Adapter: "tg", Chat: scope.Chat{ID: "-100"}}, true},
		{scope.Scope{Type: "telegram", Adapter: "tg", Chat: scope.Chat{ID: "-1000"}}, false},
		{scope.Scope{Type: "websocket", Adapter: "site", Path: "/b/"}, true},
		{scope.Scope{Type: "websocket", Adapter: "site", Path: "/b/c/"}, false},
	} {
		if got := len(l.of[channelOf(&tc.s)]) == 1; got != tc.want {
			t.Errorf("%s %s %q %q: bridged %v, want %v", tc.s.Type, tc.s.Adapter, tc.s.Chat.ID, tc.s.Path, got, tc.want)
		}
	}
}
