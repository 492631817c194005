package server

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	for _, tc := range []struct {
		info debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{debug.BuildInfo{}, "(devel)"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "8f1dd3e"}, {Key: "vcs.modified", Value: "false"}}}, "(devel), revision 8f1dd3e"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "8f1dd3e"}, {Key: "vcs.modified", Value: "true"}}}, "v0.4.0, revision 8f1dd3e, modified"},
	} {
		if got := buildVersion(&tc.info); got != tc.want {
			t.Errorf("buildVersion(%+v) = %q, want %q", tc.info, got, tc.want)
		}
	}
}

// parseErrors parses yaml as bot.yaml and returns its errors' lines.
func configErrors(t *testing.T, yaml string, validate bool) []string {
	t.Helper()
	c, err := Parse("bot.yaml", []byte(yaml), func(string) string { return "" })
	if err == nil && validate {
		err = c.Validate(NewRegistry())
	}
	if err == nil {
		t.Fatalf("no error for\n%s", yaml)
	}
	return strings.Split(err.Error(), "\n")
}

func TestConfigErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		validate   bool
		want       []string
	}{
		{"duration without a unit", "scopes:\n  idle_timeout: 10\n", false,
			[]string{`bot.yaml:2: scopes.idle_timeout: want a duration such as 10s, 1m30s or 2h, got "10": add a unit, e.g. 10s`}},
		{"wrong type in words", "scopes:\n  max_scopes: many\n", false,
			[]string{`bot.yaml:2: scopes.max_scopes: want a whole number, got "many"`}},
		{"list for a number", "shutdown:\n  grace: [1, 2]\n", false,
			[]string{`bot.yaml:2: shutdown.grace: want a duration such as 10s, 1m30s or 2h, got a list`}},
		{"negative sizes, each at its line, once", "scopes:\n  max_scopes: -3\n  inbox_size: -1\n  shutdown_parallelism: -2\nroutes:\n  x: {bot: b}\n", true,
			[]string{
				`bot.yaml:3: scopes.inbox_size: must not be negative, got -1`,
				`bot.yaml:4: scopes.shutdown_parallelism: must not be negative, got -2`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := configErrors(t, tc.yaml, tc.validate)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("errors %q lack %q", got, w)
				}
			}
			if tc.validate {
				for _, l := range got {
					if strings.Contains(l, "max_scopes") {
						t.Errorf("max_scopes: -3 (documented: no bound) was refused: %q", l)
					}
				}
			}
		})
	}
}

func TestConfigErrorKeyOnce(t *testing.T) {
	err := &ConfigError{File: "bot.yaml", Line: 9, Key: "telegram",
		Err: fmt.Errorf("telegram: %w", errors.New(`telegram: mode must be "polling" or "webhook", got "bogus"`))}
	if got, want := err.Error(), `bot.yaml:9: telegram: mode must be "polling" or "webhook", got "bogus"`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
