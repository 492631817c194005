package layertest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A backend that encodes events returns what event.Unmarshal makes of
// them; the suite must accept that as the event that was sent.
func TestSameEventAcrossEncoding(t *testing.T) {
	for _, sent := range []event.Event{
		Ping{N: 42, Text: "héllo"},
		event.Message{
			"type":   "test.raw",
			"n":      7,
			"big":    uint64(1) << 63,
			"list":   []string{"a", "b"},
			"nested": map[string]any{"ok": true, "f": 1.5},
			"bytes":  []byte{1, 2, 3},
		},
	} {
		data, err := event.Marshal(sent)
		if err != nil {
			t.Fatal(err)
		}
		got, err := event.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if ok, diff := sameEvent(sent, got); !ok {
			t.Errorf("%s after a round trip: %s", sent.Type(), diff)
		}
	}
}

func TestSameEventTellsEventsApart(t *testing.T) {
	for _, c := range []struct{ want, got event.Event }{
		{Ping{N: 1}, Ping{N: 2}},
		{Ping{N: 1}, event.Message{"type": "test.other", "n": 1, "text": ""}},
		{Ping{N: 1}, nil},
		{event.Message{"type": "a", "x": []any{1, 2}}, event.Message{"type": "a", "x": []any{2, 1}}},
	} {
		if ok, _ := sameEvent(c.want, c.got); ok {
			t.Errorf("sameEvent(%#v, %#v) = true", c.want, c.got)
		}
	}
}
