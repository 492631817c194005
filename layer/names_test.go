package layer_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValidNames(t *testing.T) {
	long := strings.Repeat("a", layer.MaxNameLength-1)
	for _, c := range []struct {
		name           string
		channel, group bool
	}{
		{"http.request", true, true},
		{"websocket.send-1_A", true, true},
		{long, true, true},
		{long + "a", false, false},
		{"specific.abc!def", true, false},
		{"specific.!def", true, false},
		{"specific!", true, false},
		{"!abc", false, false},
		{"a!b!c", false, false},
		{"", false, false},
		{"has space", false, false},
		{"slash/ed", false, false},
		{"ünïcode", false, false},
		{"tab\t", false, false},
	} {
		if err := layer.ValidChannelName(c.name); (err == nil) != c.channel {
			t.Errorf("ValidChannelName(%q) = %v, want valid %v", c.name, err, c.channel)
		} else if err != nil {
			checkNameError(t, err, c.name)
		}
		if err := layer.ValidGroupName(c.name); (err == nil) != c.group {
			t.Errorf("ValidGroupName(%q) = %v, want valid %v", c.name, err, c.group)
		} else if err != nil {
			checkNameError(t, err, c.name)
		}
	}
}

func checkNameError(t *testing.T, err error, name string) {
	t.Helper()
	if !errors.Is(err, layer.ErrInvalidName) {
		t.Errorf("error %q does not wrap ErrInvalidName", err)
	}
	if !strings.Contains(err.Error(), strconv.Quote(name)) {
		t.Errorf("error %q does not name %q", err, name)
	}
}

func TestNewChannelName(t *testing.T) {
	seen := make(map[string]bool)
	for _, prefix := range []string{"specific", "specific.", "a"} {
		for range 100 {
			name, err := layer.NewChannelName(prefix)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(name, prefix+"!") || seen[name] {
				t.Fatalf("NewChannelName(%q) = %q", prefix, name)
			}
			if err := layer.ValidChannelName(name); err != nil {
				t.Fatal(err)
			}
			seen[name] = true
		}
	}
	longest := strings.Repeat("p", layer.MaxNameLength-18)
	if _, err := layer.NewChannelName(longest); err != nil {
		t.Errorf("prefix of %d characters: %v", len(longest), err)
	}
	for _, bad := range []string{"", "a!b", "sp ace", longest + "p"} {
		if _, err := layer.NewChannelName(bad); !errors.Is(err, layer.ErrInvalidName) {
			t.Errorf("NewChannelName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestValidEvent(t *testing.T) {
	for _, c := range []struct {
		ev event.Event
		ok bool
	}{
		{event.Message{"type": "chat.message"}, true},
		{event.Message{}, false},
		{event.Message{"type": 3}, false},
		{nil, false},
	} {
		if err := layer.ValidEvent(c.ev); (err == nil) != c.ok || err != nil && !errors.Is(err, event.ErrNoType) {
			t.Errorf("ValidEvent(%#v) = %v", c.ev, err)
		}
	}
}
