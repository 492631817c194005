package websocket

import (
	"errors"
	"strings"
	"testing"
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
