package lines_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/adapters/lines"
)

func TestSplitPieces(t *testing.T) {
	long := strings.Repeat("Grüße aus Zürich, 東京 и Москва! ", 25) + strings.Repeat("é", 300) + " end"
	for _, size := range []int{1, 5, 17, 100, 400} {
		pieces := lines.Split(long, size)
		if got := join(long, pieces); got != long {
			t.Fatalf("size %d: pieces do not give the text back", size)
		}
		for _, p := range pieces {
			if len(p) > max(size, utf8.UTFMax) || !utf8.ValidString(p) || p == "" {
				t.Fatalf("size %d: bad piece %q", size, p)
			}
		}
		if min := (len(long) + size - 1) / size; size >= 17 && len(pieces) > 2*min {
			t.Errorf("size %d: %d pieces for %d bytes: the pieces are not filled", size, len(pieces), len(long))
		}
	}
	for text, want := range map[string]string{
		"a\r\nb\n\nc\rd\x00e": "a|b|c|de", // line ends of every kind; no empty line, no NUL
		"one two three":       "one two|three",
		"nospacesatall":       "nospacesa|tall",
		"":                    "",
	} {
		if got := strings.Join(lines.Split(text, 9), "|"); got != want {
			t.Errorf("Split(%q, 9) = %q, want %q", text, got, want)
		}
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
