package event_test

import (
	"reflect"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
)

func TestAskNumbered(t *testing.T) {
	ask := event.Ask{Text: "Which size?", Choices: []event.Choice{{Text: "S", Token: "a"}, {Text: "M", Token: "b"}}}
	if got, want := ask.Numbered(), "Which size?\n1. S\n2. M"; got != want {
		t.Fatalf("Numbered = %q, want %q", got, want)
	}
}

// An Ask and an Answer cross a channel layer and decode as they were.
func TestAskAndAnswerCrossTheLayer(t *testing.T) {
	ask := event.Ask{Text: "Which size?", Choices: []event.Choice{{Text: "S", Token: "a"}, {Text: "M", Token: "b"}}}
	b, err := event.Marshal(ask)
	if err != nil {
		t.Fatal(err)
	}
	m, err := event.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := event.Decode[event.Ask](m)
	if err != nil || !reflect.DeepEqual(got, ask) {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, ask)
	}

	ans := event.Answer{Token: "b", Text: "M"}
	if b, err = event.Marshal(ans); err != nil {
		t.Fatal(err)
	}
	if m, err = event.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if got, err := event.Decode[event.Answer](m); err != nil || got != ans {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, ans)
	}
}
