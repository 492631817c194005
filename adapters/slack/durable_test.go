package slack_test

import (
	"reflect"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/event"
)

// Inbound events read back from a durable intake decode to the types the
// adapter made, equal to the originals.
func TestDecodeInbound(t *testing.T) {
	a := new(slack.Adapter)
	for _, ev := range []event.Event{
		slack.Message{EventID: "Ev1", Team: "T1", Channel: "C1", User: "U1", Text: "hi"},
		slack.AppMention{EventID: "Ev2", Channel: "C1", Text: "<@B> hi"},
		slack.Command{Team: "T1", Command: "/deploy", Text: "prod"},
		slack.Event{EventID: "Ev3", EventType: "team_join", Team: "T1"},
	} {
		b, err := event.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		m, err := event.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.DecodeInbound(m)
		if err != nil {
			t.Fatalf("%s: %v", ev.Type(), err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("%s: decoded %#v, want %#v", ev.Type(), got, ev)
		}
	}
}
