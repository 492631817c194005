package websocket

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
)

// FuzzParseAnswer feeds arbitrary client frames of the chat protocol to
// the parsing of an answer: none may panic; what is accepted names a
// token and came in a frame within the bound; everything else is refused
// with errBadChatFrame, which closes the connection with 1007.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		chatMark + `{"type":"answer","token":"dlg:3:1"}`,
		chatMark + `{"type":"answer","token":""}`,
		chatMark + `{"type":"ask","token":"x"}`,
		chatMark + `{"type":"answer","token":"x","extra":[1,2,{"deep":null}]}`,
		chatMark + `{"type":"answer","token":12}`,
		chatMark + `[]`, chatMark + `null`, chatMark, chatMark + chatMark + `{}`,
		chatMark + `{"type":"answer","token":"` + strings.Repeat("x", maxChatFrame) + `"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		token, err := parseAnswer(text)
		switch {
		case err != nil && !errors.Is(err, errBadChatFrame):
			t.Fatalf("%q: error %v is not errBadChatFrame", text, err)
		case err == nil && (token == "" || len(text) > maxChatFrame):
			t.Fatalf("%q (%d bytes) accepted with token %q", text, len(text), token)
		}
	})
}

// TestValidAsk: Send refuses, with ErrInvalidAsk, a question no client
// could answer.
func TestValidAsk(t *testing.T) {
	many := make([]event.Choice, maxChoices+1)
	for i := range many {
		many[i] = event.Choice{Text: strconv.Itoa(i), Token: "t" + strconv.Itoa(i)}
	}
	for name, c := range map[string]struct {
		choices []event.Choice
		ok      bool
	}{
		"two":             {[]event.Choice{{Text: "a", Token: "1"}, {Text: "b", Token: "2"}}, true},
		"the most":        {many[:maxChoices], true},
		"64-byte token":   {[]event.Choice{{Text: "a", Token: strings.Repeat("t", event.MaxTokenLen)}}, true},
		"none":            {nil, false},
		"too many":        {many, false},
		"empty token":     {[]event.Choice{{Text: "a"}}, false},
		"65-byte token":   {[]event.Choice{{Text: "a", Token: strings.Repeat("t", event.MaxTokenLen+1)}}, false},
		"repeated tokens": {[]event.Choice{{Text: "a", Token: "1"}, {Text: "b", Token: "1"}}, false},
	} {
		err := validAsk(event.Ask{Text: "?", Choices: c.choices})
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalidAsk)) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
