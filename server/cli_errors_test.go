package server

import (
	"runtime/debug"
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
