package lines

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// ErrSkipped is wrapped by the errors of lines that Read skipped: Read
// can be called again and goes on with the next line.
var ErrSkipped = errors.New("lines: line skipped")

// The reasons a line is skipped; both wrap ErrSkipped.
var (
	ErrTooLong = fmt.Errorf("%w: longer than the bound", ErrSkipped)
	ErrNotUTF8 = fmt.Errorf("%w: not UTF-8", ErrSkipped)
)

// Reader reads lines of at most a bounded length. Make it with NewReader;
// it holds one line's worth of buffer, however long the lines it is given.
type Reader struct {
	r   *bufio.Reader
	max int
}

// NewReader returns a Reader of r whose lines hold at most size bytes
// (at least 1), not counting their line end.
func NewReader(r io.Reader, size int) *Reader {
	size = max(size, 1)
	return &Reader{r: bufio.NewReaderSize(r, size+2), max: size}
}

// Read returns the next line without its line end ("\n" or "\r\n"). A
// line longer than the bound is read to its end and dropped, and Read
// returns ErrTooLong; a line that is not UTF-8 returns ErrNotUTF8. A last
// line without a line end is returned like any other; then Read returns
// io.EOF, or the error of the underlying reader.
func (r *Reader) Read() (string, error) {
	line, more, err := r.r.ReadLine()
	if err != nil {
		return "", err
	}
	if more || len(line) > r.max {
		for more && err == nil {
			_, more, err = r.r.ReadLine()
		}
		if err != nil && err != io.EOF {
			return "", err
		}
		return "", ErrTooLong
	}
	if !utf8.Valid(line) {
		return "", ErrNotUTF8
	}
	return string(line), nil
}
