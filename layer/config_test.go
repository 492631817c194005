package layer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
)

func TestConfigDefaults(t *testing.T) {
	c := layer.Config{}.WithDefaults()
	if c.Capacity != 100 || c.Expiry != time.Minute || c.GroupExpiry != 24*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	if got := (layer.Config{}).CapacityFor("any"); got != 100 {
		t.Errorf("zero Config: CapacityFor = %d, want 100", got)
	}
	kept := layer.Config{Capacity: 7, Expiry: time.Second, GroupExpiry: time.Hour}
	if got := kept.WithDefaults(); got.Capacity != 7 || got.Expiry != time.Second || got.GroupExpiry != time.Hour {
		t.Errorf("WithDefaults changed set fields: %+v", got)
	}
}

func TestWithDefaultsCopiesPatterns(t *testing.T) {
	patterns := map[string]int{"a*": 5}
	c := layer.Config{ChannelCapacity: patterns}.WithDefaults()
	patterns["a*"] = 9
	if got := c.CapacityFor("ab"); got != 5 {
		t.Errorf("CapacityFor after the caller's map changed = %d, want 5", got)
	}
}

func TestCapacityFor(t *testing.T) {
	c := layer.Config{
		Capacity: 10,
		ChannelCapacity: map[string]int{
			"http.request":    200,
			"http.*":          50,
			"websocket.send*": 20,
			"websocket.*":     30,
			"a?c":             3,
			"ab*":             4,
			"[ab]b*":          6,
			"bb?":             7,
		},
	}
	for _, tc := range []struct {
		channel string
		want    int
	}{
		{"http.request", 200},               // exact name
		{"http.response", 50},               // only match
		{"websocket.send!abc", 20},          // longest pattern
		{"websocket.receive", 30},           // only match
		{"abc", 6},                          // "[ab]b*" is the longest of three
		{"bbx", 6},                          // "[ab]b*" outlasts "bb?"
		{"other", 10},                       // no match
		{"specific.abc!websocket.send", 10}, // '*' does not reach into the middle
	} {
		if got := c.CapacityFor(tc.channel); got != tc.want {
			t.Errorf("CapacityFor(%q) = %d, want %d", tc.channel, got, tc.want)
		}
	}
	tie := layer.Config{ChannelCapacity: map[string]int{"x?": 1, "?y": 2}}
	for range 20 { // map order is random; the result must not be
		if got := tie.CapacityFor("xy"); got != 2 {
			t.Fatalf("tie: CapacityFor = %d, want 2 from the pattern that sorts first", got)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (layer.Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	bad := layer.Config{
		Capacity:        -1,
		ChannelCapacity: map[string]int{"[": 5, "ok*": 0},
		Expiry:          -time.Second,
		GroupExpiry:     -time.Second,
	}
	err := bad.Validate()
	for _, want := range []string{"capacity", `"["`, `"ok*"`, "expiry", "group_expiry"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %s", err, want)
		}
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 5 {
		t.Errorf("Validate() = %v, want 5 joined errors", err)
	}
}
