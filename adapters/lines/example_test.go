package lines_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters/lines"
)

// An IRC message of a 20-byte budget: one message per line, long lines
// cut at a space.
func ExampleSplit() {
	for _, l := range lines.Split("hello there, how are you today?\nfine", 20) {
		fmt.Printf("%q\n", l)
	}
	// Output:
	// "hello there, how are"
	// "you today?"
	// "fine"
}

// A terminal's input, bounded to 10 bytes a line.
func ExampleReader() {
	r := lines.NewReader(strings.NewReader("hi\na line far too long\n\xff\nbye\n"), 10)
	for {
		line, err := r.Read()
		if errors.Is(err, lines.ErrSkipped) {
			fmt.Println("skipped:", err)
			continue
		}
		if err != nil {
			break // io.EOF
		}
		fmt.Println("line:", line)
	}
	// Output:
	// line: hi
	// skipped: lines: line skipped: longer than the bound
	// skipped: lines: line skipped: not UTF-8
	// line: bye
}
