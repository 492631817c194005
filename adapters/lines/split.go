package lines

import (
	"strings"
	"unicode/utf8"
)

// Split cuts text into lines of at most size bytes for a protocol that
// sends one message per line: each line of text (ended by "\n", "\r\n" or
// "\r") is cut on UTF-8 boundaries, at its last space within size where
// there is one (the space is dropped: servers trim it anyway). Empty
// lines and NUL bytes, which such protocols cannot carry, are dropped. A
// size below utf8.UTFMax counts as utf8.UTFMax, so that every piece holds
// at least one character.
func Split(text string, size int) []string {
	text = strings.ReplaceAll(text, "\x00", "")
	size = max(size, utf8.UTFMax)
	var out []string
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		for len(line) > size {
			cut := size
			for !utf8.RuneStart(line[cut]) {
				cut--
			}
			next := cut
			if sp := strings.LastIndexByte(line[:cut+1], ' '); sp > 0 {
				cut, next = sp, sp+1
			}
			out = append(out, line[:cut])
			line = line[next:]
		}
		out = append(out, line)
	}
	return out
}
