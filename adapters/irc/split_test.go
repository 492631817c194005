package irc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitPieces(t *testing.T) {
	long := strings.Repeat("Grüße aus Zürich, 東京 и Москва! ", 25) + strings.Repeat("é", 300) + " end"
	for _, room := range []int{1, 5, 17, 100, 400} {
		pieces := split(long, room)
		if got := join(long, pieces); got != long {
			t.Fatalf("room %d: pieces do not give the text back", room)
		}
		for _, p := range pieces {
			if len(p) > max(room, utf8.UTFMax) || !utf8.ValidString(p) || p == "" {
				t.Fatalf("room %d: bad piece %q", room, p)
			}
		}
	}
	if got := split("a\r\nb\n\nc\rd\x00e", 10); strings.Join(got, "|") != "a|b|c|de" {
		t.Fatalf("lines: %q", got)
	}
	if got := split("one two three", 9); strings.Join(got, "|") != "one two|three" {
		t.Fatalf("at spaces: %q", got)
	}
}

// join puts pieces back together, with the space a cut dropped.
func join(text string, pieces []string) string {
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(p)
		if b.Len() < len(text) && text[b.Len()] == ' ' {
			b.WriteByte(' ')
		}
	}
	return b.String()
}
