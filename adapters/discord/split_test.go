package discord

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// split keeps every character but the separators it cuts at, and makes
// no piece longer than Discord takes.
func FuzzSplit(f *testing.F) {
	f.Add("hello")
	f.Add(strings.Repeat("a", 4001))
	f.Add(strings.Repeat("Grüße 東京\n", 700))
	f.Add(strings.Repeat("x", 1999) + " " + strings.Repeat("y", 10))
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			t.Skip()
		}
		pieces := split(text)
		for i, p := range pieces {
			if n := utf8.RuneCountInString(p); n > maxContent {
				t.Fatalf("piece %d has %d characters", i, n)
			}
			if !utf8.ValidString(p) {
				t.Fatalf("piece %d is not valid UTF-8", i)
			}
		}
		strip := strings.NewReplacer("\n", "", " ", "")
		if got, want := strip.Replace(strings.Join(pieces, "")), strip.Replace(text); got != want {
			t.Fatalf("the pieces lost or changed characters")
		}
		if utf8.RuneCountInString(text) <= maxContent && (len(pieces) != 1 || pieces[0] != text) {
			t.Fatalf("a text within the bound was cut: %d pieces", len(pieces))
		}
	})
}
